import { Controller, Get, Inject } from '@nestjs/common';
import { Redstream } from '../../../lib';
import { INDEXER_CONSUMER, PRODUCTS_STREAM } from '../products/products.constants';
import { DelayerStats, ProductsDelayer } from '../products/products.delayer';
import { ProductsService } from '../products/products.service';
import { SAMPLE_CONFIG, SampleConfig } from '../sample-config';
import { SearchIndexService } from '../search/search-index.service';

/** What `GET /status` answers. */
export interface SampleStatus {
  productsInPrimary: number;
  productsInSearchIndex: number;
  delayMs: number;
  demoFailure: boolean;
  delayer: DelayerStats;
  /** The products stream in Redis: entries not yet trimmed, delay messages waiting, the indexer's offset. */
  stream: { length: number; delayLength: number; indexerOffset: string | null };
}

/** `GET /status`: both databases' counts, the stream and what the Delayer re-queued, to watch the healing. */
@Controller('status')
export class StatusController {
  constructor(
    private readonly products: ProductsService,
    private readonly searchIndex: SearchIndexService,
    private readonly delayer: ProductsDelayer,
    private readonly redstream: Redstream,
    @Inject(SAMPLE_CONFIG) private readonly config: SampleConfig,
  ) {}

  @Get()
  async status(): Promise<SampleStatus> {
    const [productsInPrimary, productsInSearchIndex, length, delayLength, indexerOffset] = await Promise.all([
      this.products.count(),
      this.searchIndex.count(),
      this.redstream.streamLength(PRODUCTS_STREAM),
      this.redstream.delayStreamLength(PRODUCTS_STREAM),
      this.redstream.committedOffset(PRODUCTS_STREAM, INDEXER_CONSUMER),
    ]);
    return {
      productsInPrimary,
      productsInSearchIndex,
      delayMs: this.config.delayMs,
      demoFailure: this.config.demoFailure,
      delayer: this.delayer.statistics,
      stream: { length, delayLength, indexerOffset },
    };
  }
}
