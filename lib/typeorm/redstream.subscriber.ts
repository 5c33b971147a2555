import type {
  DataSource,
  EntityMetadata,
  EntitySubscriberInterface,
  InsertEvent,
  ObjectLiteral,
  QueryRunner,
  RecoverEvent,
  RemoveEvent,
  SoftRemoveEvent,
  TransactionCommitEvent,
  TransactionRollbackEvent,
  TransactionStartEvent,
  UpdateEvent,
} from 'typeorm';
import { consoleLogger, Producer, RedstreamConfigError, RedstreamLogger, RedstreamPayload } from '../engine';
import type { RedstreamChange, RedstreamChangeKind } from './interfaces/redstream-entity-options.interface';
import type { RedstreamSubscriberOptions } from './interfaces/redstream-subscriber-options.interface';
import { insideRedstreamBulk } from './redstream-bulk.context';
import { redstreamEntityBinding } from './redstream-entity.decorator';
import { RedstreamBypassError, RedstreamDelayWriteError } from './redstream-typeorm.errors';

/** An immediate message waiting for its transaction's commit. */
interface PendingMessage {
  stream: string;
  payload: RedstreamPayload;
  /** Undefined when the delay message failed and `onDelayError` is `'log'`. */
  delayId?: string;
}

/** What one transaction (or savepoint) level has written so far. */
type TransactionFrame = PendingMessage[];

/**
 * The TypeORM side of the gem's `redstream_callbacks`: for every insert, update, remove, soft
 * remove and recover of a `@RedstreamEntity`, writes a delay message while the transaction is
 * still open (TypeORM's `after*` entity events), and the immediate messages once the
 * outermost transaction has committed. A rollback writes no immediate message; its delay
 * messages stay for the Delayer, whose consumers then re-read a database that never changed.
 *
 * Messages are kept per QueryRunner, so concurrent transactions never mix. A savepoint
 * (nested transaction) that rolls back drops its messages; one that is released hands them
 * to the enclosing transaction. A write outside any transaction (`save(x, { transaction:
 * false })`) writes both messages right away.
 *
 * @example
 * ```ts
 * await dataSource.initialize();
 * new RedstreamSubscriber(redstream.producer()).attach(dataSource);
 * ```
 */
export class RedstreamSubscriber implements EntitySubscriberInterface<ObjectLiteral> {
  private readonly logger: RedstreamLogger;
  private readonly onDelayError: 'fail' | 'log';
  private readonly onBypass: 'warn' | 'fail' | 'ignore';
  private readonly transactions = new WeakMap<QueryRunner, TransactionFrame[]>();
  private readonly bypassesReported = new Set<string>();

  constructor(
    private readonly producer: Producer,
    options: RedstreamSubscriberOptions = {},
  ) {
    this.logger = options.logger ?? consoleLogger;
    this.onDelayError = options.onDelayError ?? 'fail';
    this.onBypass = options.onBypass ?? 'warn';
  }

  /**
   * Adds this subscriber to an initialized DataSource (`initialize()` replaces the subscriber
   * list, so attach afterwards). Idempotent. Returns the subscriber.
   */
  attach(dataSource: DataSource): this {
    if (!dataSource.isInitialized) {
      throw new RedstreamConfigError(
        'RedstreamSubscriber.attach(): initialize the DataSource first (initialize() resets its subscribers)',
      );
    }
    if (!dataSource.subscribers.includes(this)) dataSource.subscribers.push(this);
    return this;
  }

  /** Removes this subscriber from the DataSource again. */
  detach(dataSource: DataSource): void {
    const index = dataSource.subscribers.indexOf(this);
    if (index >= 0) dataSource.subscribers.splice(index, 1);
  }

  afterInsert(event: InsertEvent<ObjectLiteral>): Promise<void> {
    return this.changed(event.queryRunner, event.metadata, 'insert', [event.entity]);
  }

  afterUpdate(event: UpdateEvent<ObjectLiteral>): Promise<void> {
    return this.changed(event.queryRunner, event.metadata, 'update', [event.entity, event.databaseEntity]);
  }

  afterRemove(event: RemoveEvent<ObjectLiteral>): Promise<void> {
    // TypeORM strips the primary key from a removed entity; the loaded row still has it.
    return this.changed(
      event.queryRunner,
      event.metadata,
      'remove',
      [event.databaseEntity, event.entity],
      event.entityId,
    );
  }

  afterSoftRemove(event: SoftRemoveEvent<ObjectLiteral>): Promise<void> {
    return this.changed(event.queryRunner, event.metadata, 'soft-remove', [event.entity, event.databaseEntity]);
  }

  afterRecover(event: RecoverEvent<ObjectLiteral>): Promise<void> {
    return this.changed(event.queryRunner, event.metadata, 'recover', [event.entity, event.databaseEntity]);
  }

  afterTransactionStart(event: TransactionStartEvent): void {
    const frames = this.transactions.get(event.queryRunner) ?? [];
    frames.push([]);
    this.transactions.set(event.queryRunner, frames);
  }

  async afterTransactionCommit(event: TransactionCommitEvent): Promise<void> {
    const runner = event.queryRunner;
    const frames = this.transactions.get(runner);
    const committed = frames?.pop() ?? [];
    if (runner.isTransactionActive) {
      // A savepoint was released: its messages belong to the enclosing transaction now.
      this.currentFrame(runner).push(...committed);
      return;
    }
    this.transactions.delete(runner);
    if (committed.length > 0) await this.queue(committed);
  }

  afterTransactionRollback(event: TransactionRollbackEvent): void {
    const runner = event.queryRunner;
    const frames = this.transactions.get(runner);
    frames?.pop();
    if (!runner.isTransactionActive) this.transactions.delete(runner);
  }

  private async changed(
    runner: QueryRunner,
    metadata: EntityMetadata,
    kind: RedstreamChangeKind,
    candidates: readonly (ObjectLiteral | undefined)[],
    reportedId?: unknown,
  ): Promise<void> {
    const binding = redstreamEntityBinding(metadata.target);
    if (!binding) return;
    const found = identify(metadata, kind, candidates, reportedId);
    if (!found) return this.bypassed(metadata, kind);
    const stream = binding.streamOf(found.entity, found.change);
    const payload = binding.payloadOf(found.entity, found.change);
    const message: PendingMessage = { stream, payload };
    try {
      [message.delayId] = await this.producer.delay(stream, payload);
    } catch (error) {
      const failure = new RedstreamDelayWriteError(
        `${metadata.name} ${JSON.stringify(found.change.id)}`,
        stream,
        error,
      );
      if (this.onDelayError === 'fail') throw failure;
      this.logger.error(`${failure.message} (onDelayError: 'log', so the write goes on)`);
    }
    if (runner.isTransactionActive) this.currentFrame(runner).push(message);
    else await this.queue([message]);
  }

  // The innermost open level of the runner's transaction. Created on demand for a
  // transaction that began before this subscriber was attached.
  private currentFrame(runner: QueryRunner): TransactionFrame {
    const frames = this.transactions.get(runner) ?? [];
    if (frames.length === 0) frames.push([]);
    this.transactions.set(runner, frames);
    return frames[frames.length - 1];
  }

  // The commit has happened: a failure here must not fail the caller, who would retry a
  // write that succeeded. The delay message delivers the change after the Delayer's delay.
  private async queue(messages: readonly PendingMessage[]): Promise<void> {
    const byStream = new Map<string, { payloads: RedstreamPayload[]; delayIds: string[]; seen: Set<string> }>();
    for (const message of messages) {
      let batch = byStream.get(message.stream);
      if (!batch) byStream.set(message.stream, (batch = { payloads: [], delayIds: [], seen: new Set() }));
      if (message.delayId) batch.delayIds.push(message.delayId);
      // A record saved several times in one transaction needs one immediate message, as
      // Rails runs after_commit once per record.
      const key = JSON.stringify(message.payload);
      if (!batch.seen.has(key)) {
        batch.seen.add(key);
        batch.payloads.push(message.payload);
      }
    }
    await Promise.all(
      [...byStream].map(async ([stream, batch]) => {
        try {
          await this.producer.queueAfterDelay(stream, batch.payloads, batch.delayIds);
        } catch (error) {
          this.logger.warn(
            `Could not write ${batch.payloads.length} immediate message(s) to stream "${stream}" after the commit ` +
              `(${(error as Error).message}); the Delayer delivers them after its delay`,
          );
        }
      }),
    );
  }

  private bypassed(metadata: EntityMetadata, kind: RedstreamChangeKind): void {
    if (this.onBypass === 'ignore' || insideRedstreamBulk()) return;
    const message =
      `A ${kind} of ${metadata.name} without a primary key TypeORM reports (a QueryBuilder, update() or delete() ` +
      'with criteria) wrote no redstream message: wrap such writes in redstreamBulk() or Producer.bulk()';
    if (this.onBypass === 'fail') throw new RedstreamBypassError(message);
    const key = `${metadata.name}:${kind}`;
    if (this.bypassesReported.has(key)) return;
    this.bypassesReported.add(key);
    this.logger.warn(`${message} (reported once per entity and kind of write)`);
  }
}

/** The first candidate that carries the whole primary key, with that key. */
function identify(
  metadata: EntityMetadata,
  kind: RedstreamChangeKind,
  candidates: readonly (ObjectLiteral | undefined)[],
  reportedId: unknown,
): { entity: ObjectLiteral; change: RedstreamChange } | undefined {
  let entity: ObjectLiteral | undefined;
  let idMap: ObjectLiteral | undefined;
  for (const candidate of candidates) {
    idMap = metadata.getEntityIdMap(candidate);
    if (idMap) {
      entity = candidate;
      break;
    }
  }
  if (!idMap && reportedId !== undefined && reportedId !== null) {
    idMap = typeof reportedId === 'object' ? metadata.getEntityIdMap(reportedId as ObjectLiteral) : undefined;
    idMap ??= metadata.hasMultiplePrimaryKeys ? undefined : metadata.primaryColumns[0].createValueMap(reportedId);
    entity = candidates.find((candidate) => candidate !== undefined) ?? idMap;
  }
  if (!idMap || !entity) return undefined;
  const id = metadata.hasMultiplePrimaryKeys ? idMap : metadata.primaryColumns[0].getEntityValue(idMap);
  return { entity, change: { id, idMap, kind } };
}
