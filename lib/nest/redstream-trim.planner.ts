/**
 * The streams this application trims and, per stream, the consumer names a trimmer must wait
 * for: one trimmer per stream that a running consumer of this application reads. The
 * application's own consumers count from the start, before they first register in Redis:
 * otherwise the first trim could delete what a new consumer has not read. `configured` adds
 * the consumers of other services (the `trimmer.consumerNames` option).
 */
export function planTrimmers(
  consumers: readonly { readonly stream: string; readonly name: string }[],
  configured: Readonly<Record<string, readonly string[]>>,
): Map<string, string[]> {
  const namesByStream = new Map<string, Set<string>>();
  for (const { stream, name } of consumers) {
    const names = namesByStream.get(stream) ?? new Set(configured[stream] ?? []);
    namesByStream.set(stream, names.add(name));
  }
  return new Map([...namesByStream].map(([stream, names]) => [stream, [...names]]));
}
