import { BadRequestException, Controller, Get, Query } from '@nestjs/common';
import { SearchHit, SearchIndexService } from './search-index.service';

/** Reads the search index (the secondary datastore), never the primary database. */
@Controller('search')
export class SearchController {
  constructor(private readonly searchIndex: SearchIndexService) {}

  /** `GET /search?q=chair&featured=true&limit=20` */
  @Get()
  search(
    @Query('q') text?: string,
    @Query('featured') featured?: string,
    @Query('limit') limit?: string,
  ): Promise<SearchHit[]> {
    if (featured !== undefined && featured !== 'true' && featured !== 'false') {
      throw new BadRequestException('featured must be true or false');
    }
    if (limit !== undefined && !/^\d+$/.test(limit)) throw new BadRequestException('limit must be a number');
    return this.searchIndex.search({
      text,
      featured: featured === undefined ? undefined : featured === 'true',
      limit: limit === undefined ? undefined : Number(limit),
    });
  }
}
