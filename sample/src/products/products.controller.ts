import { Body, Controller, Delete, Get, HttpCode, Param, ParseIntPipe, Patch, Post, Query } from '@nestjs/common';
import { parseBulkUpdate, parseNewProduct, parseProductChanges, parseSimulateCrash } from './product-input';
import { ProductsService } from './products.service';

/** Writes go to the primary database; `?simulateCrash=true` skips the immediate message. */
@Controller('products')
export class ProductsController {
  constructor(private readonly products: ProductsService) {}

  @Post()
  create(@Body() body: unknown, @Query('simulateCrash') simulateCrash?: string) {
    return this.products.create(parseNewProduct(body), { simulateCrash: parseSimulateCrash(simulateCrash) });
  }

  /** Reads the primary database (the source of truth), unlike `/search`. */
  @Get(':id')
  findOne(@Param('id', ParseIntPipe) id: number) {
    return this.products.findById(id);
  }

  @Patch(':id')
  update(@Param('id', ParseIntPipe) id: number, @Body() body: unknown, @Query('simulateCrash') simulateCrash?: string) {
    return this.products.update(id, parseProductChanges(body), {
      simulateCrash: parseSimulateCrash(simulateCrash),
    });
  }

  @Delete(':id')
  remove(@Param('id', ParseIntPipe) id: number, @Query('simulateCrash') simulateCrash?: string) {
    return this.products.remove(id, { simulateCrash: parseSimulateCrash(simulateCrash) });
  }

  /** `{ "ids": [1, 2], "set": { "featured": true } }`: one UPDATE, wrapped in `redstreamBulk`. */
  @Post('bulk-update')
  @HttpCode(200)
  bulkUpdate(@Body() body: unknown, @Query('simulateCrash') simulateCrash?: string) {
    const { ids, changes } = parseBulkUpdate(body);
    return this.products.bulkUpdate(ids, changes, { simulateCrash: parseSimulateCrash(simulateCrash) });
  }
}
