import { Inject, Injectable, Optional } from '@nestjs/common';
import * as terminus from '@nestjs/terminus';
import type { HealthIndicatorResult, HealthIndicatorStatus } from '@nestjs/terminus';
import { RedstreamRegistry } from '../nest';
import type { RedstreamHealthDetails, RedstreamHealthOptions } from './interfaces/redstream-health-options.interface';
import { inspectRedstreamHealth, isHealthy } from './redstream-health.inspector';
import { UNHEALTHY } from './redstream-health.messages';

/**
 * What {@link RedstreamHealthIndicator.isHealthy} resolves to: terminus 11's
 * `HealthIndicatorResult<Key>`, written out because terminus 10's `HealthIndicatorResult` is not
 * generic and the published declarations must compile against it too. Assignable to both.
 */
export type RedstreamHealthIndicatorResult<Key extends string> = Record<
  Key,
  { status: HealthIndicatorStatus } & RedstreamHealthDetails
>;

/** The part of terminus 11+'s `HealthIndicatorService` the indicator uses. */
interface HealthIndicatorServiceLike {
  check(key: string): {
    up(data: Record<string, unknown>): HealthIndicatorResult;
    down(data: Record<string, unknown>): HealthIndicatorResult;
  };
}

/**
 * terminus 11 and later build results with `HealthIndicatorService` (12 no longer catches the
 * deprecated `HealthCheckError`); terminus 10 has no such service and expects that error.
 */
const HealthIndicatorServiceClass = (terminus as { HealthIndicatorService?: new () => HealthIndicatorServiceLike })
  .HealthIndicatorService;

/** Injects nothing where terminus has no `HealthIndicatorService` (10). */
const NO_HEALTH_INDICATOR_SERVICE = Symbol('NoHealthIndicatorService');

/**
 * What terminus 10's `HealthCheckService` recognises as a failed indicator (it checks the
 * `isHealthCheckError` flag and reports `causes`), without importing the class terminus 11
 * deprecates and 12 removed.
 */
export class RedstreamHealthCheckError extends Error {
  readonly isHealthCheckError = true;

  constructor(
    message: string,
    readonly causes: HealthIndicatorResult,
  ) {
    super(message);
    this.name = 'RedstreamHealthCheckError';
  }
}

/**
 * A `@nestjs/terminus` health indicator for Redstream in this process: Redis reachable, every
 * enabled handler active or a hot standby of a live owner, no stalled worker, lag under the
 * thresholds given. Add it to the providers of the module that imports `TerminusModule`:
 *
 * @example
 * ```ts
 * @Controller('health')
 * export class HealthController {
 *   constructor(private readonly health: HealthCheckService, private readonly redstream: RedstreamHealthIndicator) {}
 *
 *   @Get()
 *   @HealthCheck()
 *   check() {
 *     return this.health.check([() => this.redstream.isHealthy('redstream', { maxLagEntries: 10_000, maxLagMs: 60_000 })]);
 *   }
 * }
 * ```
 */
@Injectable()
export class RedstreamHealthIndicator {
  private readonly indicators?: HealthIndicatorServiceLike;

  constructor(
    private readonly registry: RedstreamRegistry,
    @Optional()
    @Inject(HealthIndicatorServiceClass ?? NO_HEALTH_INDICATOR_SERVICE)
    indicators?: HealthIndicatorServiceLike,
  ) {
    // Not injected when TerminusModule is not imported where this provider lives: it is stateless in 11.
    this.indicators = indicators ?? (HealthIndicatorServiceClass ? new HealthIndicatorServiceClass() : undefined);
  }

  /**
   * The result under `key`: `up` or `down` with {@link RedstreamHealthDetails} (Redis, handler
   * counts, and every failing worker with its stream, name and reasons). On terminus 10 a
   * down result is thrown as {@link RedstreamHealthCheckError}, as that version expects.
   */
  async isHealthy<const Key extends string>(
    key: Key,
    options: RedstreamHealthOptions = {},
  ): Promise<RedstreamHealthIndicatorResult<Key>> {
    const details = await inspectRedstreamHealth(this.registry, options);
    const data = { ...details } as Record<string, unknown> & RedstreamHealthDetails;
    const healthy = isHealthy(details);
    if (this.indicators) {
      const session = this.indicators.check(key);
      return (healthy ? session.up(data) : session.down(data)) as RedstreamHealthIndicatorResult<Key>;
    }
    const result: HealthIndicatorResult = { [key]: { ...data, status: healthy ? 'up' : 'down' } };
    if (healthy) return result as RedstreamHealthIndicatorResult<Key>;
    throw new RedstreamHealthCheckError(UNHEALTHY(details.failing.length, details.redis.reachable), result);
  }
}
