import { defineStream } from '../../../lib';
import type { ProductMessage } from './product.entity';

/**
 * The products stream's contract (`redstream:stream:products` in Redis, named after the
 * table): the Product entity writes to it, the indexer and the Delayer read it, and the
 * compiler checks that they agree on the payload `{ id }`.
 */
export const Products = defineStream<ProductMessage>('products');
/** The stream's name, for the admin reads and the `handlers` option. */
export const PRODUCTS_STREAM = Products.name;
/** The consumer that keeps the search index in sync. */
export const INDEXER_CONSUMER = 'indexer';
