import { Module } from '@nestjs/common';
import { DatabaseModule } from '../database/database.module';
import { ProductsModule } from '../products/products.module';
import { ProductIndexer } from './product-indexer.consumer';
import { SearchIndexService } from './search-index.service';
import { SearchController } from './search.controller';

@Module({
  imports: [DatabaseModule, ProductsModule],
  controllers: [SearchController],
  providers: [SearchIndexService, ProductIndexer],
  exports: [SearchIndexService],
})
export class SearchModule {}
