/** The stream that carries product changes (`redstream:stream:products` in Redis). */
export const PRODUCTS_STREAM = 'products';
/** The consumer that keeps the search index in sync. */
export const INDEXER_CONSUMER = 'indexer';
