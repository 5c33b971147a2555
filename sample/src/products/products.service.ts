import { Inject, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Repository } from 'typeorm';
import { Producer } from '../../../lib';
import { redstreamBulk } from '../../../lib/typeorm';
import { PrimaryDatabaseQueue } from '../database/primary-database-queue.service';
import { SAMPLE_CONFIG, SampleConfig } from '../sample-config';
import { NewProduct, Product, ProductChanges } from './product.entity';
import { SimulatedCrash, simulatingCrash } from './simulated-crash.subscriber';

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
  /** True when the immediate message was skipped (simulated crash): the Delayer delivers the change. */
  healsAfterDelay: boolean;
}

/**
 * Writes products with plain `save()` and `remove()`: the RedstreamSubscriber writes a delay
 * message inside each transaction and the immediate message after its commit. The immediate
 * message updates the index within milliseconds; the delay message, re-queued by the Delayer
 * after the delay, repairs the index when the process died (or Redis failed) between COMMIT
 * and the immediate message. Every access waits in the {@link PrimaryDatabaseQueue} (sql.js).
 */
@Injectable()
export class ProductsService {
  private readonly logger = new Logger(ProductsService.name);

  constructor(
    @InjectRepository(Product) private readonly products: Repository<Product>,
    private readonly producer: Producer,
    private readonly primary: PrimaryDatabaseQueue,
    @Inject(SAMPLE_CONFIG) private readonly config: SampleConfig,
  ) {}

  create(input: NewProduct, options: WriteOptions = {}): Promise<Product & WriteResult> {
    return this.primary.exclusive(async () => {
      // save() fills in the id, version and time on this object, even when the commit "crashes".
      const product = this.products.create(input);
      const result = await this.write(options, () => this.products.save(product));
      if (result.healsAfterDelay) this.logCrash([product.id]);
      return { ...product, ...result };
    });
  }

  update(id: number, changes: ProductChanges, options: WriteOptions = {}): Promise<Product & WriteResult> {
    return this.primary.exclusive(async () => {
      const product = this.products.merge(await this.findOrThrow(id), changes);
      const result = await this.write(options, () => this.products.save(product));
      if (result.healsAfterDelay) this.logCrash([id]);
      return { ...product, ...result };
    });
  }

  remove(id: number, options: WriteOptions = {}): Promise<{ id: number } & WriteResult> {
    return this.primary.exclusive(async () => {
      const product = await this.findOrThrow(id);
      const result = await this.write(options, () => this.products.remove(product));
      if (result.healsAfterDelay) this.logCrash([id]);
      return { id, ...result };
    });
  }

  /**
   * One UPDATE for many products, which TypeORM's entity events do not see, so it is wrapped
   * in `redstreamBulk` (the gem's `find_in_batches` + `Producer#bulk`): per batch the delay
   * messages, the UPDATE, then the immediate messages.
   */
  bulkUpdate(
    ids: readonly number[],
    changes: ProductChanges,
    options: WriteOptions = {},
  ): Promise<{ updated: number[] } & WriteResult> {
    return this.primary.exclusive(async () => {
      const updated: number[] = [];
      try {
        await redstreamBulk(this.producer, this.products, { id: In(ids) }, async (batch) => {
          const batchIds = batch.map((product) => product.id);
          // Outside a transaction (TypeORM runs an UPDATE without one), so no commit hook can
          // "crash" it: the write itself stops redstreamBulk before the immediate messages.
          await this.products.update({ id: In(batchIds) }, changes);
          updated.push(...batchIds);
          if (this.crashes(options)) throw new SimulatedCrash();
        });
      } catch (error) {
        if (!(error instanceof SimulatedCrash)) throw error;
        this.logCrash(updated);
        return { updated, healsAfterDelay: true };
      }
      return { updated, healsAfterDelay: false };
    });
  }

  findById(id: number): Promise<Product> {
    return this.primary.exclusive(() => this.findOrThrow(id));
  }

  count(): Promise<number> {
    return this.primary.exclusive(() => this.products.count());
  }

  // Only inside the queue.
  private async findOrThrow(id: number): Promise<Product> {
    const product = await this.products.findOneBy({ id });
    if (!product) throw new NotFoundException(`No product ${id}`);
    return product;
  }

  // A SimulatedCrash comes after the COMMIT, and after TypeORM has written the database file
  // (it saves when it releases its query runner): the change is stored, only its immediate
  // message is missing.
  private async write(options: WriteOptions, work: () => Promise<unknown>): Promise<WriteResult> {
    try {
      await simulatingCrash(this.crashes(options), work);
      return { healsAfterDelay: false };
    } catch (error) {
      if (!(error instanceof SimulatedCrash)) throw error;
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
