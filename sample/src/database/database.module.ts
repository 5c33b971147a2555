import { Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { join } from 'node:path';
import { PRODUCTS_TABLE_SCHEMA } from '../products/product.entity';
import { SAMPLE_CONFIG, SampleConfig } from '../sample-config';
import { SEARCH_INDEX_SCHEMA } from '../search/search-index.service';
import { PRIMARY_DATABASE, SEARCH_DATABASE } from './database.constants';
import { SqliteDatabase } from './sqlite-database';

/**
 * The two databases: `primary.sqlite` (products, the truth) and `search-index.sqlite` (the
 * secondary datastore), both files in the data folder, or both in memory.
 */
@Module({
  providers: [
    {
      provide: PRIMARY_DATABASE,
      inject: [SAMPLE_CONFIG],
      useFactory: (config: SampleConfig) =>
        SqliteDatabase.open(config.dataDir && join(config.dataDir, 'primary.sqlite'), PRODUCTS_TABLE_SCHEMA),
    },
    {
      provide: SEARCH_DATABASE,
      inject: [SAMPLE_CONFIG],
      useFactory: (config: SampleConfig) =>
        SqliteDatabase.open(config.dataDir && join(config.dataDir, 'search-index.sqlite'), SEARCH_INDEX_SCHEMA),
    },
  ],
  exports: [PRIMARY_DATABASE, SEARCH_DATABASE],
})
export class DatabaseModule implements OnApplicationShutdown {
  constructor(
    @Inject(PRIMARY_DATABASE) private readonly primary: SqliteDatabase,
    @Inject(SEARCH_DATABASE) private readonly search: SqliteDatabase,
  ) {}

  // The last hook of a shutdown: the consumers have stopped by then, so nothing writes any more.
  async onApplicationShutdown(): Promise<void> {
    await Promise.all([this.primary.close(), this.search.close()]);
  }
}
