import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckResult, HealthCheckService } from '@nestjs/terminus';
import { RedstreamHealthIndicator } from '../../../lib/terminus';

/**
 * `GET /health`: 200 while Redis answers and the indexer and delayer are active (or hot standbys
 * of another instance), none stalled and none far behind; 503 naming what fails otherwise.
 */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly redstream: RedstreamHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check(): Promise<HealthCheckResult> {
    return this.health.check([
      () => this.redstream.isHealthy('redstream', { maxLagEntries: 10_000, maxLagMs: 60_000 }),
    ]);
  }
}
