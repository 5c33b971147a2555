import { Injectable } from '@nestjs/common';
import { Consumer, Delayer, Redstream, RedstreamPayload, Trimmer } from '../engine';
import { RedstreamOrchestrator } from './redstream.orchestrator';

/**
 * The application's Redstream background services, for health checks, admin endpoints and
 * manual control (with `autoStart: false`). Empty when `backgroundServices` is false.
 */
@Injectable()
export class RedstreamRegistry {
  constructor(
    /** The engine context: `committedOffset()`, `registeredConsumers()`, `forgetConsumer()`, `streamLength()`... */
    readonly redstream: Redstream,
    private readonly orchestrator: RedstreamOrchestrator,
  ) {}

  /** The consumer `name` of `stream`, or undefined when this application runs none (or it is disabled). */
  getConsumer<TPayload extends object = RedstreamPayload>(
    stream: string,
    name: string,
  ): Consumer<TPayload> | undefined {
    return this.orchestrator.getConsumer(stream, name) as Consumer<TPayload> | undefined;
  }

  /** The delayer of `stream`, or undefined. */
  getDelayer(stream: string): Delayer | undefined {
    return this.orchestrator.getDelayer(stream);
  }

  /** The trimmer of `stream` (created on application bootstrap), or undefined. */
  getTrimmer(stream: string): Trimmer | undefined {
    return this.orchestrator.getTrimmer(stream);
  }

  /** Every consumer of this application. */
  consumers(): Consumer[] {
    return this.orchestrator.allConsumers();
  }

  /** Every delayer of this application. */
  delayers(): Delayer[] {
    return this.orchestrator.allDelayers();
  }

  /** Every trimmer of this application. */
  trimmers(): Trimmer[] {
    return this.orchestrator.allTrimmers();
  }

  /** Starts every consumer, delayer and trimmer that is not running; returns at once. */
  start(): void;
  /** Starts consumer `name` of `stream` (`'delayer'`: the stream's delayer) and the stream's trimmer. */
  start(stream: string, name: string): void;
  start(stream?: string, name?: string): void {
    this.orchestrator.start(stream, name);
  }

  /** Stops every consumer, delayer and trimmer; resolves once handlers in flight have committed. */
  stop(): Promise<void>;
  /** Stops consumer `name` of `stream` (`'delayer'`: the stream's delayer). */
  stop(stream: string, name: string): Promise<void>;
  stop(stream?: string, name?: string): Promise<void> {
    return this.orchestrator.stop(stream, name);
  }
}
