import { Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { join } from 'node:path';
import { SAMPLE_CONFIG, SampleConfig } from '../sample-config';
import { SEARCH_INDEX_SCHEMA } from '../search/search-index.service';
import { SEARCH_DATABASE } from './database.constants';
import { PrimaryDatabaseQueue } from './primary-database-queue.service';
import { SqliteDatabase } from './sqlite-database';

/**
 * The search index's database (`search-index.sqlite` in the data folder, or in memory) and the
 * queue every access to the primary database waits in. The primary database itself is
 * TypeORM's DataSource, set up in the AppModule.
 */
@Module({
  providers: [
    PrimaryDatabaseQueue,
    {
      provide: SEARCH_DATABASE,
      inject: [SAMPLE_CONFIG],
      useFactory: (config: SampleConfig) =>
        SqliteDatabase.open(config.dataDir && join(config.dataDir, 'search-index.sqlite'), SEARCH_INDEX_SCHEMA),
    },
  ],
  exports: [PrimaryDatabaseQueue, SEARCH_DATABASE],
})
export class DatabaseModule implements OnApplicationShutdown {
  constructor(@Inject(SEARCH_DATABASE) private readonly search: SqliteDatabase) {}

  // The last hook of a shutdown: the consumers have stopped by then, so nothing writes any more.
  async onApplicationShutdown(): Promise<void> {
    await this.search.close();
  }
}
