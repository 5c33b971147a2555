import { Inject, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { Producer } from '../../../lib';
import type { SqlSession } from '../database/sqlite-database';
import { SAMPLE_CONFIG, SampleConfig } from '../sample-config';
import { NewProduct, Product, ProductChanges, ProductMessage } from './product.entity';
import { PRODUCTS_STREAM } from './products.constants';
import { ProductsRepository } from './products.repository';

/** Per-request options of a write. */
export interface WriteOptions {
  /**
   * Skip the immediate message after COMMIT, as if the process died right there: only the
   * delay message, written before COMMIT, brings the change to the index, after the delay.
   */
  simulateCrash?: boolean;
}

/** What a write did, for the HTTP response. */
export interface WriteResult {
  /** True when the immediate message was skipped (simulated crash) or could not be written. */
  healsAfterDelay: boolean;
}

/** Thrown inside a bulk write, after its COMMIT, to stop `Producer.bulk` before its immediate messages. */
class SimulatedCrash extends Error {}

/**
 * Writes products the way redstream wants it: a delay message before the transaction commits,
 * an immediate message after. The immediate message updates the index within milliseconds; the
 * delay message, re-queued by the Delayer after the delay, repairs the index when the process
 * died (or Redis failed) between COMMIT and the immediate message.
 */
@Injectable()
export class ProductsService {
  private readonly logger = new Logger(ProductsService.name);

  constructor(
    private readonly repository: ProductsRepository,
    private readonly producer: Producer,
    @Inject(SAMPLE_CONFIG) private readonly config: SampleConfig,
  ) {}

  async create(input: NewProduct, options: WriteOptions = {}): Promise<Product & WriteResult> {
    const product = await this.repository.transaction(async (session) => {
      const created = this.repository.insert(session, input);
      await this.delayMessage(created.id);
      return created;
    });
    return { ...product, ...(await this.queueAfterCommit([product.id], options)) };
  }

  async update(id: number, changes: ProductChanges, options: WriteOptions = {}): Promise<Product & WriteResult> {
    const product = await this.repository.transaction(async (session) => {
      this.findOrThrow(session, id);
      await this.delayMessage(id);
      this.repository.update(session, [id], changes);
      return this.findOrThrow(session, id);
    });
    return { ...product, ...(await this.queueAfterCommit([id], options)) };
  }

  async remove(id: number, options: WriteOptions = {}): Promise<{ id: number } & WriteResult> {
    await this.repository.transaction(async (session) => {
      this.findOrThrow(session, id);
      await this.delayMessage(id);
      this.repository.remove(session, id);
    });
    return { id, ...(await this.queueAfterCommit([id], options)) };
  }

  /**
   * One UPDATE for many products (no per-record hook sees it), wrapped in `Producer.bulk`:
   * delay messages for every id, the UPDATE, then the immediate messages.
   */
  async bulkUpdate(
    ids: readonly number[],
    changes: ProductChanges,
    options: WriteOptions = {},
  ): Promise<{ updated: number[] } & WriteResult> {
    const existing = (await this.repository.findByIds(ids)).map((product) => product.id);
    const messages: ProductMessage[] = existing.map((id) => ({ id }));
    const crash = this.crashes(options);
    try {
      await this.producer.bulk(PRODUCTS_STREAM, messages, () =>
        this.repository
          .transaction((session) => {
            this.repository.update(session, existing, changes);
          })
          .then(() => {
            if (crash) throw new SimulatedCrash();
          }),
      );
    } catch (error) {
      if (!(error instanceof SimulatedCrash)) throw error;
      this.logCrash(existing);
      return { updated: existing, healsAfterDelay: true };
    }
    return { updated: existing, healsAfterDelay: false };
  }

  async findById(id: number): Promise<Product> {
    const product = await this.repository.findById(id);
    if (!product) throw new NotFoundException(`No product ${id}`);
    return product;
  }

  private findOrThrow(session: SqlSession, id: number): Product {
    const product = this.repository.findIn(session, id);
    if (!product) throw new NotFoundException(`No product ${id}`);
    return product;
  }

  // Inside the transaction, before COMMIT: if it fails, the transaction rolls back, so there
  // is never a committed change without a delay message.
  private async delayMessage(id: number): Promise<void> {
    await this.producer.delay(PRODUCTS_STREAM, { id } satisfies ProductMessage);
  }

  private async queueAfterCommit(ids: number[], options: WriteOptions): Promise<WriteResult> {
    if (this.crashes(options)) {
      this.logCrash(ids);
      return { healsAfterDelay: true };
    }
    try {
      await this.producer.queue(
        PRODUCTS_STREAM,
        ids.map((id): ProductMessage => ({ id })),
      );
      return { healsAfterDelay: false };
    } catch (error) {
      // The change is committed; failing the request now would only invite a retry of a
      // write that succeeded. The delay message delivers it after the delay.
      this.logger.warn(
        `Immediate message for products ${ids.join(', ')} failed (${(error as Error).message}); ` +
          `the Delayer delivers them in ${this.config.delayMs} ms`,
      );
      return { healsAfterDelay: true };
    }
  }

  private crashes(options: WriteOptions): boolean {
    return options.simulateCrash ?? this.config.demoFailure;
  }

  private logCrash(ids: readonly number[]): void {
    this.logger.warn(
      `Simulated crash after COMMIT: no immediate message for products ${ids.join(', ')}; ` +
        `the Delayer re-queues their delay messages in ${this.config.delayMs / 1000} s`,
    );
  }
}
