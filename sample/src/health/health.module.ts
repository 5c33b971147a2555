import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { RedstreamHealthIndicator } from '../../../lib/terminus';
import { HealthController } from './health.controller';

/** Terminus with the Redstream indicator (RedstreamModule is global, so its registry injects here). */
@Module({
  imports: [TerminusModule],
  controllers: [HealthController],
  providers: [RedstreamHealthIndicator],
})
export class HealthModule {}
