// TypeORM integration (`@redstream/nestjs/typeorm`): a separate entry point, so that the
// root entry never loads `typeorm`, an optional peer dependency.
export * from './interfaces/redstream-entity-options.interface';
export * from './interfaces/redstream-subscriber-options.interface';
export {
  defaultRedstreamPayload,
  RedstreamEntity,
  redstreamEntityBinding,
  redstreamStreamName,
  redstreamStreams,
  registerRedstreamEntity,
  unregisterRedstreamEntity,
} from './redstream-entity.decorator';
export type { RedstreamEntityBinding, RedstreamEntityTarget } from './redstream-entity.decorator';
export * from './redstream-bulk';
export * from './redstream-shards';
export * from './redstream-typeorm.errors';
export * from './redstream-typeorm.module';
export * from './redstream.subscriber';
export * from './redstream-shard.providers';
