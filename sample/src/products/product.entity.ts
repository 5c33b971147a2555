import type { SqlRow } from '../database/sqlite-database';

/** A product as the primary database stores it. */
export interface Product {
  id: number;
  name: string;
  description: string;
  price: number;
  featured: boolean;
  /** ISO time of the last change, so the search index shows which version it holds. */
  updatedAt: string;
}

/** The fields a client may set on creation. */
export type NewProduct = Pick<Product, 'name' | 'description' | 'price'> & Partial<Pick<Product, 'featured'>>;

/** The fields a client may change. */
export type ProductChanges = Partial<Pick<Product, 'name' | 'description' | 'price' | 'featured'>>;

/**
 * The payload of every message on the products stream: the gem's default, the record id.
 * A type alias, not an interface: only an alias is assignable to the Producer's
 * `Record<string, unknown>` payload type.
 */
export type ProductMessage = { id: number };

export const PRODUCTS_TABLE_SCHEMA = `
  CREATE TABLE IF NOT EXISTS products (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    price REAL NOT NULL,
    featured INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL
  );
`;

export function productFromRow(row: SqlRow): Product {
  return {
    id: Number(row.id),
    name: String(row.name),
    description: String(row.description),
    price: Number(row.price),
    featured: Number(row.featured) === 1,
    updatedAt: String(row.updated_at),
  };
}
