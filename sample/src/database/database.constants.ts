/** Injection token of the secondary datastore (the full-text search index). */
export const SEARCH_DATABASE = Symbol('SEARCH_DATABASE');
