import { Inject, Injectable } from '@nestjs/common';
import { PRIMARY_DATABASE } from '../database/database.constants';
import type { SqliteDatabase, SqlSession } from '../database/sqlite-database';
import { NewProduct, Product, ProductChanges, productFromRow } from './product.entity';

const ID_CHUNK = 500;

const COLUMNS: Record<keyof ProductChanges, string> = {
  name: 'name',
  description: 'description',
  price: 'price',
  featured: 'featured',
};

/** The SQL of the products table in the primary database. */
@Injectable()
export class ProductsRepository {
  constructor(@Inject(PRIMARY_DATABASE) private readonly database: SqliteDatabase) {}

  /** Runs `work` in one transaction of the primary database. */
  transaction<T>(work: (session: SqlSession) => T | Promise<T>): Promise<T> {
    return this.database.transaction(work);
  }

  insert(session: SqlSession, product: NewProduct): Product {
    const { lastInsertRowId } = session.run(
      'INSERT INTO products (name, description, price, featured, updated_at) VALUES (?, ?, ?, ?, ?)',
      [product.name, product.description, product.price, product.featured ? 1 : 0, new Date().toISOString()],
    );
    return this.findIn(session, lastInsertRowId) as Product;
  }

  /** Applies `changes` to the given ids; returns how many rows changed. */
  update(session: SqlSession, ids: readonly number[], changes: ProductChanges): number {
    if (ids.length === 0) return 0;
    const entries = (Object.keys(COLUMNS) as (keyof ProductChanges)[]).filter((key) => changes[key] !== undefined);
    const assignments = [...entries.map((key) => `${COLUMNS[key]} = ?`), 'updated_at = ?'];
    const values = entries.map((key) => {
      const value = changes[key];
      return typeof value === 'boolean' ? (value ? 1 : 0) : (value as string | number);
    });
    return session.run(`UPDATE products SET ${assignments.join(', ')} WHERE id IN (${ids.map(() => '?').join(', ')})`, [
      ...values,
      new Date().toISOString(),
      ...ids,
    ]).changes;
  }

  remove(session: SqlSession, id: number): boolean {
    return session.run('DELETE FROM products WHERE id = ?', [id]).changes > 0;
  }

  findIn(session: SqlSession, id: number): Product | undefined {
    const [row] = session.all('SELECT * FROM products WHERE id = ?', [id]);
    return row ? productFromRow(row) : undefined;
  }

  findById(id: number): Promise<Product | undefined> {
    return this.database.exclusive((session) => this.findIn(session, id));
  }

  /** The current state of the products that still exist among `ids` (committed data only). */
  findByIds(ids: readonly number[]): Promise<Product[]> {
    return this.database.exclusive((session) => {
      const products: Product[] = [];
      // Chunked: a consumer batch (1000 by default) could exceed SQLite's limit on parameters.
      for (let start = 0; start < ids.length; start += ID_CHUNK) {
        const chunk = ids.slice(start, start + ID_CHUNK);
        const rows = session.all(`SELECT * FROM products WHERE id IN (${chunk.map(() => '?').join(', ')})`, chunk);
        products.push(...rows.map(productFromRow));
      }
      return products.sort((a, b) => a.id - b.id);
    });
  }

  count(): Promise<number> {
    return this.database.exclusive((session) => Number(session.all('SELECT COUNT(*) AS n FROM products')[0].n));
  }
}
