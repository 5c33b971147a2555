import { Inject, Injectable } from '@nestjs/common';
import { SEARCH_DATABASE } from '../database/database.constants';
import type { SqliteDatabase, SqlRow } from '../database/sqlite-database';
import type { Product } from '../products/product.entity';

/** A search hit: the product as the index last saw it. */
export interface SearchHit {
  id: number;
  name: string;
  description: string;
  price: number;
  featured: boolean;
  /** The product's `updatedAt` as the index holds it (ISO time). */
  updatedAt: string;
  /** When the indexer wrote this version. */
  indexedAt: string;
}

export interface SearchQuery {
  /** Words to find in name or description (prefix match: `chai` finds `chair`); empty lists all. */
  text?: string;
  featured?: boolean;
  limit?: number;
}

export const SEARCH_INDEX_SCHEMA = `
  CREATE TABLE IF NOT EXISTS indexed_products (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    price REAL NOT NULL,
    featured INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    indexed_at TEXT NOT NULL
  );
  CREATE VIRTUAL TABLE IF NOT EXISTS product_terms USING fts4(name, description, tokenize=unicode61);
`;

/**
 * The secondary datastore: a second SQLite database with an FTS4 full-text index, standing in
 * for Elasticsearch. Only the indexer writes to it, and it holds copies, never the truth.
 */
@Injectable()
export class SearchIndexService {
  constructor(@Inject(SEARCH_DATABASE) private readonly database: SqliteDatabase) {}

  /** Writes the current version of `products` and removes `deletedIds`, in one transaction. */
  async apply(products: readonly Product[], deletedIds: readonly number[]): Promise<void> {
    const indexedAt = new Date().toISOString();
    await this.database.transaction((session) => {
      for (const product of products) {
        session.run(
          `INSERT OR REPLACE INTO indexed_products (id, name, description, price, featured, updated_at, indexed_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
          [
            product.id,
            product.name,
            product.description,
            product.price,
            product.featured ? 1 : 0,
            product.updatedAt.toISOString(),
            indexedAt,
          ],
        );
        session.run('DELETE FROM product_terms WHERE docid = ?', [product.id]);
        session.run('INSERT INTO product_terms (docid, name, description) VALUES (?, ?, ?)', [
          product.id,
          product.name,
          product.description,
        ]);
      }
      for (const id of deletedIds) {
        session.run('DELETE FROM indexed_products WHERE id = ?', [id]);
        session.run('DELETE FROM product_terms WHERE docid = ?', [id]);
      }
    });
  }

  search(query: SearchQuery = {}): Promise<SearchHit[]> {
    // Only letters and digits reach MATCH, each word quoted: "or" or "near" are words here,
    // never operators, and no input can form FTS query syntax.
    const words = query.text?.match(/[\p{L}\p{N}]+/gu) ?? [];
    const conditions: string[] = [];
    const params: (string | number)[] = [];
    if (words.length > 0) {
      conditions.push('p.id IN (SELECT docid FROM product_terms WHERE product_terms MATCH ?)');
      params.push(words.map((word) => `"${word}*"`).join(' '));
    }
    if (query.featured !== undefined) {
      conditions.push('p.featured = ?');
      params.push(query.featured ? 1 : 0);
    }
    const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
    params.push(Math.min(Math.max(query.limit ?? 50, 1), 500));
    return this.database.exclusive((session) =>
      session.all(`SELECT p.* FROM indexed_products p ${where} ORDER BY p.id LIMIT ?`, params).map(hitFromRow),
    );
  }

  count(): Promise<number> {
    return this.database.exclusive((session) => Number(session.all('SELECT COUNT(*) AS n FROM indexed_products')[0].n));
  }
}

function hitFromRow(row: SqlRow): SearchHit {
  return {
    id: Number(row.id),
    name: String(row.name),
    description: String(row.description),
    price: Number(row.price),
    featured: Number(row.featured) === 1,
    updatedAt: String(row.updated_at),
    indexedAt: String(row.indexed_at),
  };
}
