import type { KeyObject } from 'node:crypto';
import { configuredSubgraphUrl, type Config } from './config';
import { appError, ErrorCode } from './errors';
import { HttpPools, type PostAnswer } from './httpPool';
import { signIdentity, signingKey } from './identity';
import { defaultSubgraphUrl, type SubgraphName } from './services';
import { tracedCall } from './tracing';

interface GraphQLAnswer<T> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string } & Record<string, unknown> }[];
}

/**
 * How one HealthSync service asks another: a GraphQL call straight to the other subgraph, signed
 * with the internal secret as `{ service: <caller> }` for that subgraph and that body, as the
 * router signs its calls (platform/identity.ts), carrying the user's request id. Coded errors of
 * the callee pass through; a callee that is down or slow is SUBGRAPH_UNAVAILABLE.
 */
export class ServiceClient {
  /** Made once per client, not per call. */
  private readonly key: KeyObject;
  /** Keep-alive connections to the other subgraphs. */
  private readonly http: HttpPools;

  constructor(
    private readonly cfg: Config,
    private readonly caller: SubgraphName,
  ) {
    this.key = signingKey(cfg.INTERNAL_SECRET);
    this.http = new HttpPools(cfg.SUBGRAPH_CONNECTIONS);
  }

  private url(target: SubgraphName): string {
    return configuredSubgraphUrl(this.cfg, target) ?? defaultSubgraphUrl(target);
  }

  async query<T>(target: SubgraphName, query: string, variables: Record<string, unknown>, requestId: string): Promise<T> {
    const body = JSON.stringify({ query, variables });
    let res: PostAnswer;
    try {
      // In a CLIENT span whose trace context goes along (W3C traceparent) when tracing is on.
      const headers: Record<string, string> = { 'content-type': 'application/json', ...signIdentity({ service: this.caller }, this.key, body, { audience: target, requestId }) };
      res = await tracedCall(`POST ${target}`, { 'healthsync.service': this.caller, 'healthsync.target': target }, headers, () =>
        this.http.post(this.url(target), { headers, body, timeoutMs: this.cfg.SUBGRAPH_TIMEOUT_MS }),
      );
    } catch {
      throw appError(ErrorCode.SUBGRAPH_UNAVAILABLE, `The ${target} service is unavailable right now; please try again shortly`, { serviceName: target });
    }
    let answer: GraphQLAnswer<T>;
    try {
      answer = (await res.json()) as GraphQLAnswer<T>;
    } catch {
      throw appError(ErrorCode.SUBGRAPH_UNAVAILABLE, `The ${target} service answered ${res.status}`, { serviceName: target });
    }
    const first = answer.errors?.[0];
    if (first) {
      const code = first.extensions?.code;
      if (code && code !== ErrorCode.INTERNAL_SERVER_ERROR && (Object.values(ErrorCode) as string[]).includes(code)) {
        throw appError(code as ErrorCode, first.message, { serviceName: target });
      }
      throw appError(ErrorCode.SUBGRAPH_UNAVAILABLE, `The ${target} service failed to answer`, { serviceName: target });
    }
    return answer.data as T;
  }

  /** Federation entity lookup: one object (or null) per id, in order. */
  async entities<T>(target: SubgraphName, typename: string, ids: string[], selection: string, requestId: string): Promise<(T | null)[]> {
    const data = await this.query<{ _entities: (T | null)[] }>(
      target,
      `query($r: [_Any!]!) { _entities(representations: $r) { ... on ${typename} { ${selection} } } }`,
      { r: ids.map((id) => ({ __typename: typename, id })) },
      requestId,
    );
    return data._entities;
  }
}
