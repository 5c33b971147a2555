import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Repository } from 'typeorm';
import { RedstreamConsumer, RedstreamMessage } from '../../../lib';
import { PrimaryDatabaseQueue } from '../database/primary-database-queue.service';
import { Product, ProductMessage } from '../products/product.entity';
import { INDEXER_CONSUMER, Products } from '../products/products.constants';
import { SearchIndexService } from './search-index.service';

/**
 * Keeps the search index in sync with the primary database. A message says only *which*
 * product changed; the indexer re-reads its current state, so duplicates, re-deliveries and
 * out-of-date messages are harmless: applying a batch twice gives the same index.
 */
@Injectable()
export class ProductIndexer {
  private readonly logger = new Logger(ProductIndexer.name);

  constructor(
    @InjectRepository(Product) private readonly products: Repository<Product>,
    private readonly primary: PrimaryDatabaseQueue,
    private readonly searchIndex: SearchIndexService,
  ) {}

  @RedstreamConsumer({ stream: Products, name: INDEXER_CONSUMER })
  async index(messages: RedstreamMessage<ProductMessage>[]): Promise<void> {
    const ids = new Set<number>();
    for (const message of messages) {
      const id = message.payload.id;
      if (Number.isInteger(id) && id > 0) ids.add(id);
      else
        this.logger.warn(
          `Skipping message ${message.id}: payload ${JSON.stringify(message.payload)} has no product id`,
        );
    }
    if (ids.size === 0) return;
    // In the queue: committed rows only, never those of a write still waiting for Redis.
    const current = await this.primary.exclusive(() => this.products.findBy({ id: In([...ids]) }));
    const existing = new Set(current.map((product) => product.id));
    const deleted = [...ids].filter((id) => !existing.has(id));
    // A throw here makes the library retry the same batch after a backoff; nothing is lost.
    await this.searchIndex.apply(current, deleted);
    this.logger.log(
      `Indexed ${current.length} and removed ${deleted.length} products from ${messages.length} messages ` +
        `(${messages[0].id}..${messages[messages.length - 1].id})`,
    );
  }
}
