import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { describeConnection, Redstream, RedstreamConnectionError } from '../engine';
import { withTimeout } from '../engine/with-timeout';
import { REDSTREAM_RESOLVED_OPTIONS } from './redstream.constants';
import { REDIS_UNREACHABLE_AT_BOOTSTRAP } from './redstream.messages';
import type { ResolvedRedstreamModuleOptions } from './redstream-module-options.resolver';

/**
 * With `requireRedisAtBootstrap`, fails the application's initialisation when Redis does not
 * answer PING in time, for deployments that prefer a crash-looping pod to one that retries
 * quietly. Off by default: the workers then start anyway and catch up once Redis is back.
 */
@Injectable()
export class RedstreamConnectionVerifier implements OnModuleInit {
  constructor(
    @Inject(REDSTREAM_RESOLVED_OPTIONS) private readonly options: ResolvedRedstreamModuleOptions,
    private readonly redstream: Redstream,
  ) {}

  async onModuleInit(): Promise<void> {
    const required = this.options.requireRedisAtBootstrap;
    if (required === false) return;
    const { timeoutMs } = required;
    const unreachable = (reason: string, cause?: unknown): RedstreamConnectionError =>
      new RedstreamConnectionError(
        REDIS_UNREACHABLE_AT_BOOTSTRAP(describeConnection(this.options.redis), timeoutMs, reason),
        { cause },
      );
    try {
      await withTimeout(this.redstream.client.ping(), timeoutMs, () => {
        throw unreachable('no answer');
      });
    } catch (error) {
      // A failed bootstrap runs no shutdown hook: close what is connecting, or it would keep
      // the process alive.
      await this.redstream.close({ drainTimeoutMs: 0 });
      throw error instanceof RedstreamConnectionError ? error : unreachable((error as Error).message, error);
    }
  }
}
