import { redstreamStreamName } from '../../../lib/typeorm';
import { Product } from './product.entity';

/** The stream that carries product changes (`redstream:stream:products` in Redis), named after the table. */
export const PRODUCTS_STREAM = redstreamStreamName(Product);
/** The consumer that keeps the search index in sync. */
export const INDEXER_CONSUMER = 'indexer';
