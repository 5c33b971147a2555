import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DatabaseModule } from '../database/database.module';
import { Product } from './product.entity';
import { ProductsController } from './products.controller';
import { ProductsDelayer } from './products.delayer';
import { ProductsService } from './products.service';

@Module({
  imports: [DatabaseModule, TypeOrmModule.forFeature([Product])],
  controllers: [ProductsController],
  providers: [ProductsService, ProductsDelayer],
  exports: [TypeOrmModule, ProductsService, ProductsDelayer],
})
export class ProductsModule {}
