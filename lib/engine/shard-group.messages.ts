/** The one warning while a shard group's heartbeat fails (Redis unreachable, ACL). */
export function shardGroupHeartbeatFailed(group: string, error: string): string {
  return (
    `Shard group ${group}: the heartbeat failed (${error}); balancing uses the last count of live ` +
    `instances until Redis answers (the locks still decide who works)`
  );
}

/** Logged when this instance hands shards over to balance the group. */
export function shardGroupHandingOver(
  group: string,
  owned: number,
  share: number,
  instances: number,
  count: number,
): string {
  return (
    `Shard group ${group}: owning ${owned} shards, over the share of ${share} ` +
    `(${instances} live instances); handing ${count} over`
  );
}

/** The reason in the `standby` event and log line of a worker that handed its shard over. */
export function shardHandedOver(group: string): string {
  return `handed over to balance shard group ${group}`;
}

/**
 * A worker of another kind joined a shard group: balancing counts every worker of a group as one
 * of its shards, so an instance running both kinds (or only one) would take another's share of
 * the other kind, and some shards would be left without an owner.
 */
export function shardGroupMixesKinds(group: string, kindInGroup: string, kindJoining: string): string {
  return (
    `Shard group ${group} balances ${kindInGroup}s: a ${kindJoining} cannot join it (the group's share ` +
    `would count both kinds, leaving some shards without an owner); give the ${kindJoining}s a shardGroup ` +
    `of their own`
  );
}

/** `redstreamShards(...).consumers({ name: 'delayer' })`: its default group is the delayers'. */
export function shardConsumerInDelayerGroup(base: string, name: string, delayerGroup: string): string {
  return (
    `The consumers named "${name}" of the shards of ${base} would form the shard group ${delayerGroup}, ` +
    `the one of the shards' delayers: pass a shardGroup of their own (or false)`
  );
}
