import { DynamicModule, Module } from '@nestjs/common';
import type { RedstreamDashboardOptions } from './interfaces/redstream-dashboard-options.interface';
import { REDSTREAM_DASHBOARD_OPTIONS } from './redstream-dashboard.constants';
import { createDashboardController } from './redstream-dashboard.controller';
import { resolveDashboardOptions } from './redstream-dashboard-options.resolver';
import { RedstreamDashboardService } from './redstream-dashboard.service';

/**
 * A live page of the application's streams, served by the application's own HTTP server
 * (Express or Fastify) at `path`: what `redstream status` shows (lengths, delay backlogs, dead
 * letters, consumers and groups with their lag), refreshed every `pollIntervalMs` from
 * `<path>/api/status`, with a chart of the lag over the last minutes. With `readOnly: false`
 * and a `guard`, it also replays dead letters and rewinds stopped consumers.
 *
 * Needs `RedstreamModule` (global by default; otherwise pass it in `imports`).
 *
 * @example
 * ```ts
 * @Module({
 *   imports: [
 *     RedstreamModule.forRoot({ redis: process.env.REDIS_URL }),
 *     RedstreamDashboardModule.forRoot({ path: '/redstream', readOnly: false, guard: AdminGuard }),
 *   ],
 * })
 * export class AppModule {}
 * ```
 */
@Module({})
export class RedstreamDashboardModule {
  /**
   * Registers the page and its API. Throws (so the application does not start) on an invalid
   * option, and on `readOnly: false` without a `guard`.
   */
  static forRoot(options: RedstreamDashboardOptions = {}): DynamicModule {
    const resolved = resolveDashboardOptions(options);
    return {
      module: RedstreamDashboardModule,
      imports: [...resolved.imports],
      controllers: [createDashboardController(resolved)],
      providers: [{ provide: REDSTREAM_DASHBOARD_OPTIONS, useValue: resolved }, RedstreamDashboardService],
    };
  }
}
