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
