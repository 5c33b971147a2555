import { Column, Entity, PrimaryGeneratedColumn, UpdateDateColumn, VersionColumn } from 'typeorm';
import { RedstreamEntity } from '../../../lib/typeorm';
import { Products } from './products.constants';

/**
 * A product in the primary database. `@RedstreamEntity()` makes every `save()` and `remove()`
 * write its messages to the typed stream `Products`, payload `{ id }`: a delay message inside
 * the transaction, the immediate message after the commit.
 */
@RedstreamEntity({ stream: Products })
@Entity('products')
export class Product {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column('text')
  name!: string;

  @Column('text', { default: '' })
  description!: string;

  @Column('real')
  price!: number;

  @Column('boolean', { default: false })
  featured!: boolean;

  /** Time of the last change (whole seconds), so the search index shows which state it holds. */
  @UpdateDateColumn({ name: 'updated_at' })
  updatedAt!: Date;

  /**
   * Incremented by every `save()` and, as TypeORM's UPDATE adds `version + 1`, by `update()`.
   * The default lets `synchronize` add the column to a database file from before it existed.
   */
  @VersionColumn({ default: 1 })
  version!: number;
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
