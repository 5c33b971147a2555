/** What one stream's trimmer must wait for. */
export interface TrimPlan {
  /** Offset consumers whose committed offset bounds trimming. */
  consumerNames: string[];
  /** Consumer groups whose pending and undelivered entries are kept. */
  groupNames: string[];
}

/** A running handler that reads a stream: an offset consumer or a group consumer. */
export interface StreamReader {
  readonly kind: string;
  readonly stream: string;
  readonly name: string;
}

/**
 * The streams this application trims and, per stream, the consumer names and groups a trimmer
 * must wait for: one trimmer per stream that a running consumer or group consumer of this
 * application reads. The application's own readers count from the start, before they first
 * register in Redis (or create their group): otherwise the first trim could delete what a new
 * reader has not read. `configured` adds the readers of other services (the
 * `trimmer.consumerNames` and `trimmer.groupNames` options).
 */
export function planTrimmers(
  readers: readonly StreamReader[],
  configured: {
    readonly consumerNames: Readonly<Record<string, readonly string[]>>;
    readonly groupNames: Readonly<Record<string, readonly string[]>>;
  },
): Map<string, TrimPlan> {
  const plans = new Map<string, { consumerNames: Set<string>; groupNames: Set<string> }>();
  for (const { kind, stream, name } of readers) {
    if (kind !== 'consumer' && kind !== 'group-consumer') continue;
    const plan = plans.get(stream) ?? {
      consumerNames: new Set(configured.consumerNames[stream] ?? []),
      groupNames: new Set(configured.groupNames[stream] ?? []),
    };
    plans.set(stream, plan);
    (kind === 'consumer' ? plan.consumerNames : plan.groupNames).add(name);
  }
  return new Map(
    [...plans].map(([stream, plan]) => [
      stream,
      { consumerNames: [...plan.consumerNames], groupNames: [...plan.groupNames] },
    ]),
  );
}
