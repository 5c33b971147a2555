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
export * from './redstream-typeorm.errors';
export * from './redstream-typeorm.module';
export * from './redstream.subscriber';
// Shards need neither TypeORM nor this entry: they live in the engine (`RedstreamShards`) and the
// Nest layer (their providers), and stay exported here for code that imported them from here.
export * from '../engine/redstream-shards';
export * from '../nest/redstream-shard.providers';
