/** Injection token of the primary database (the source of truth: products). */
export const PRIMARY_DATABASE = Symbol('PRIMARY_DATABASE');
/** Injection token of the secondary datastore (the full-text search index). */
export const SEARCH_DATABASE = Symbol('SEARCH_DATABASE');
