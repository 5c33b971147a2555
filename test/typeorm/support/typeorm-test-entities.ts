import {
  Column,
  DeleteDateColumn,
  Entity,
  PrimaryColumn,
  PrimaryGeneratedColumn,
  TableInheritance,
  ChildEntity,
} from 'typeorm';
import { RedstreamEntity, redstreamShards } from '../../../lib/typeorm';

/** The common case: `@RedstreamEntity()` with every default (stream `products`, payload `{ id }`). */
@RedstreamEntity()
@Entity('products')
export class Product {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column()
  name!: string;

  @Column({ default: false })
  featured!: boolean;

  @Column({ default: true })
  onStock!: boolean;

  @DeleteDateColumn({ nullable: true })
  deletedAt?: Date | null;
}

/** A composite primary key: payload `{ id: { tenantId, lineNo } }`, stream from the class name. */
@RedstreamEntity()
@Entity()
export class OrderLine {
  @PrimaryColumn()
  tenantId!: number;

  @PrimaryColumn()
  lineNo!: number;

  @Column()
  quantity!: number;
}

export const ITEM_SHARDS = redstreamShards('items', 4);

/** Sharded, with a payload that carries a version so that tests can check per-record order. */
@RedstreamEntity<Item>({ stream: ITEM_SHARDS, payload: (item) => ({ id: item.id, version: item.version }) })
@Entity('items')
export class Item {
  @PrimaryColumn()
  id!: number;

  @Column()
  version!: number;
}

/** Not a redstream entity: its writes must produce no message. */
@Entity('audit_logs')
export class AuditLog {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column()
  text!: string;
}

/** Single-table inheritance: the children share the base class's registration and stream. */
@RedstreamEntity({ stream: 'vehicles' })
@Entity('vehicles')
@TableInheritance({ column: { type: 'varchar', name: 'kind' } })
export class Vehicle {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column()
  wheels!: number;
}

@ChildEntity()
export class Car extends Vehicle {}

export const TEST_ENTITIES = [Product, OrderLine, Item, AuditLog, Vehicle, Car];
