import type { RemoteGraphQLDataSource } from '@apollo/gateway';
import { TOPICS, type Subscriber } from '../platform/pubsub';

type GatewayGraphQLResponse = Awaited<ReturnType<RemoteGraphQLDataSource['process']>>;

/**
 * Subgraphs whose query answers are the same for every signed-in caller, and the live-stream
 * topic on which they announce every change: doctors (subgraphs/doctors/access.ts: every query and
 * every Doctor field is `authenticated`/`signedIn`, and neither its resolvers nor its service read
 * the identity; create, update, schedule and (de)activation all publish `doctor.changed` before
 * they answer). router/publicAnswers.test.ts fails when that stops being true.
 */
export const PUBLIC_SUBGRAPHS: Readonly<Record<string, string>> = { doctors: TOPICS.doctorChanged };

/** A copy nobody else holds (the gateway merges subgraph answers into its result in place). */
export function copyOf(response: GatewayGraphQLResponse): GatewayGraphQLResponse {
  const copy: GatewayGraphQLResponse = {};
  if (response.data !== undefined) copy.data = structuredClone(response.data);
  if (response.errors !== undefined) copy.errors = structuredClone(response.errors);
  if (response.extensions !== undefined) copy.extensions = structuredClone(response.extensions);
  return copy;
}

/**
 * Answers of one public subgraph (PUBLIC_SUBGRAPHS) to signed-in callers' queries, by exact body,
 * kept in this router until the subgraph announces any change on its topic (every entry goes: a
 * list or `specialties` depends on many doctors). Before an answer is used the live stream is read
 * to its end (Subscriber.catchUp: one `_id` lookup shared by concurrent callers), so a query sees
 * every change announced before it began, whichever router or service made it. An answer whose
 * load overlapped a change is not kept; a gap in the stream or an unreadable stream empties the
 * cache or asks the subgraph; `ttlMs` bounds a change whose announcement failed (or a write made
 * beside the service, e.g. a restore). Answers with errors are never kept.
 */
export class PublicAnswers {
  private readonly entries = new Map<string, { response: GatewayGraphQLResponse; at: number }>();
  private generation = 0;
  readonly stats = { hits: 0, misses: 0 };

  constructor(
    private readonly events: Subscriber,
    topic: string,
    private readonly ttlMs = 60_000,
    private readonly maxEntries = 2_000,
  ) {
    events.on(topic, () => this.clear());
    events.onGap(() => this.clear());
  }

  private clear(): void {
    this.entries.clear();
    this.generation++;
  }

  async get(key: string, load: () => Promise<GatewayGraphQLResponse>): Promise<GatewayGraphQLResponse> {
    try {
      await this.events.catchUp();
    } catch {
      return load();
    }
    const hit = this.entries.get(key);
    if (hit && Date.now() - hit.at < this.ttlMs) {
      this.stats.hits++;
      return copyOf(hit.response);
    }
    this.stats.misses++;
    const generation = this.generation;
    const response = await load();
    if (generation === this.generation && response.data && !response.errors?.length) {
      if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(key, { response: copyOf(response), at: Date.now() });
    }
    return response;
  }
}
