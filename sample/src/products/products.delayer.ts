import { Injectable, Logger } from '@nestjs/common';
import { RedstreamDelayer, RedstreamMessage } from '../../../lib';
import type { ProductMessage } from './product.entity';
import { Products } from './products.constants';

/** What the Delayer re-queued since the start, for `GET /status`. */
export interface DelayerStats {
  requeued: number;
  lastRequeuedIds: number[];
}

/**
 * Runs the products stream's Delayer. The library re-queues due delay messages by itself; this
 * method only observes each batch just before, to show the healing in the log. Its delay is
 * the sample's `SAMPLE_DELAY`, set in the module's `handlers` options (the 10 s here is the
 * default when nothing overrides it).
 */
@Injectable()
export class ProductsDelayer {
  private readonly logger = new Logger(ProductsDelayer.name);
  private readonly stats: DelayerStats = { requeued: 0, lastRequeuedIds: [] };

  @RedstreamDelayer({ stream: Products, delay: '10s' })
  onDue(messages: RedstreamMessage<ProductMessage>[]): void {
    this.stats.requeued += messages.length;
    this.stats.lastRequeuedIds = messages.map((message) => message.payload.id);
    this.logger.log(
      `Re-queueing ${messages.length} delay messages (products ${this.stats.lastRequeuedIds.join(', ')}): ` +
        'every change is delivered once more, which repairs any that missed its immediate message',
    );
  }

  get statistics(): DelayerStats {
    return { ...this.stats, lastRequeuedIds: [...this.stats.lastRequeuedIds] };
  }
}
