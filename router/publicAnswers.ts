import type { RemoteGraphQLDataSource } from '@apollo/gateway';
import { EntityCache } from '../platform/entityCache';
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
 * list or `specialties` depends on many doctors). The keeping is platform/entityCache.ts's: the
 * live stream read to its end before an answer is used, a load that overlapped a change not kept,
 * a gap or an unreadable stream emptying the cache or asking the subgraph, `ttlMs` bounding a
 * change whose announcement failed (or a write made beside the service, e.g. a restore). Answers
 * with errors are never kept. Every caller gets a copy of its own.
 */
export class PublicAnswers {
  private readonly cache: EntityCache<GatewayGraphQLResponse>;

  constructor(events: Subscriber, topic: string, ttlMs = 60_000, maxEntries = 2_000) {
    this.cache = new EntityCache(events, topic, ttlMs, { maxEntries, dropAllOnChange: true, keep: (r) => Boolean(r.data) && !r.errors?.length });
  }

  async get(key: string, load: () => Promise<GatewayGraphQLResponse>): Promise<GatewayGraphQLResponse> {
    return copyOf(await this.cache.get(key, load));
  }
}
