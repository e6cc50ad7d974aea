import type { KeyObject } from 'node:crypto';
import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { GraphQLError, Kind, OperationTypeNode } from 'graphql';
import { appError, ErrorCode } from '../platform/errors';
import type { HttpPools } from '../platform/httpPool';
import { encodeIdentity, IDENTITY_HEADER, REQUEST_ID_HEADER, SIGNATURE_HEADER, signBody, signingKey } from '../platform/identity';
import type { RouterContext } from './context';
import { copyOf, type PublicAnswers } from './publicAnswers';

type FetchResponse = Parameters<RemoteGraphQLDataSource['errorFromResponse']>[0];
type Fetcher = RemoteGraphQLDataSource['fetcher'];
type FetcherInit = NonNullable<Parameters<Fetcher>[1]>;
type ProcessOptions = GraphQLDataSourceProcessOptions<RouterContext>;
type GatewayGraphQLResponse = Awaited<ReturnType<RemoteGraphQLDataSource['process']>>;

/** A call in flight that identical calls join (see SignedDataSource.process). */
interface InFlight {
  followers: number;
  answer: Promise<{ response: GatewayGraphQLResponse; snapshot: GatewayGraphQLResponse | null }>;
}


/** Whether this subgraph call belongs to a client's mutation (its own fetch or a later entity fetch). */
function partOfMutation(options: ProcessOptions): boolean {
  return 'incomingRequestContext' in options && options.incomingRequestContext.operation?.operation === OperationTypeNode.MUTATION;
}

/** True only for a query of a client's query (never a mutation, nothing of a mutation's plan, nothing unknown). */
function isQuery(options: ProcessOptions): boolean {
  if (!('incomingRequestContext' in options)) return false; // a health check or schema load
  if (options.incomingRequestContext.operation?.operation !== OperationTypeNode.QUERY) return false;
  const operations = options.document?.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  if (operations) return operations.length === 1 && operations[0].kind === Kind.OPERATION_DEFINITION && operations[0].operation === OperationTypeNode.QUERY;
  return /^\s*(query\b|\{)/.test(options.request.query ?? '');
}

/**
 * The subgraph fetch: seals the identity header that `willSendRequest` wrote with a signature over
 * it and the exact body bytes being sent (the gateway serialises the body only after
 * `willSendRequest`, so the fetch is the first place that sees them), then sends with a timeout.
 */
function signingFetcher(key: KeyObject, timeoutMs: number, http: HttpPools): Fetcher {
  const send = (url: string, init: FetcherInit = {}) => {
    const headers: Record<string, string> = { ...init.headers };
    const encoded = headers[IDENTITY_HEADER];
    delete headers[SIGNATURE_HEADER];
    if (encoded) headers[SIGNATURE_HEADER] = signBody(encoded, key, init.body ?? '');
    // The gateway sends every subgraph call as a POST with a JSON body.
    return http.post(url, { headers, body: init.body ?? '', timeoutMs });
  };
  return send as unknown as Fetcher;
}

/**
 * How the router calls a subgraph: signs the caller's identity (with a mutation's idempotency key,
 * router/idempotency.ts) for this subgraph and this request body (platform/identity.ts), forwards
 * the request id, gives up after a timeout, and turns transport failures into a clear
 * SUBGRAPH_UNAVAILABLE error. Subscriptions' live queries run through the gateway, so here too.
 *
 * It never retries, a mutation least of all: a call that failed or timed out may have done its
 * work, and only the client, with its Idempotency-Key, may safely ask again. The fetcher is a
 * keep-alive pool request (platform/httpPool.ts: undici, which does not retry a POST) and nothing
 * here calls it twice.
 */
export class SignedDataSource extends RemoteGraphQLDataSource<RouterContext> {
  /**
   * Counts the subgraph calls of mutations this router started (all subgraphs): a query sent after a
   * write began never joins a call sent before it.
   */
  private static writes = 0;
  /** Identical queries in flight, by caller and body (see process). */
  private readonly inFlight = new Map<string, InFlight>();
  /** Calls sent, and calls answered by joining an identical one in flight. */
  readonly dedupStats = { sent: 0, joined: 0 };

  constructor(
    private readonly serviceName: string,
    url: string,
    secret: string,
    timeoutMs: number,
    /** The router's keep-alive connections to its subgraphs (platform/httpPool.ts). */
    http: HttpPools,
    /** For a subgraph whose answers are the same for every signed-in caller (publicAnswers.ts). */
    private readonly publicAnswers: PublicAnswers | null = null,
  ) {
    // The key is made once per subgraph, not per request.
    super({ url, fetcher: signingFetcher(signingKey(secret), timeoutMs, http) });
  }

  /**
   * Identical queries in flight share one call: a query whose caller and exact body (query,
   * variables, operation name, extensions) equal those of a call this subgraph has not answered
   * yet waits for that answer and gets its own copy of it. The caller is the identity the router
   * signs (user, role, patient, doctor): never across users, and an anonymous call only with
   * anonymous ones. What else the signed header carries, the request id and the signing time,
   * differs per request and cannot change the answer; nor can the client's address and device,
   * which only sign-in (a mutation) reads. Mutations are never shared, nor the entity fetches of a
   * mutation's plan, nor anything once answered (no caching); and a query never joins a call that
   * was sent before a mutation started through this router (read-your-writes for a client that
   * waited for its mutation's answer; writes through other router instances or by the services
   * themselves are as concurrent as they were). The joined request is not audited again by the
   * subgraph: the one call is, under the same user.
   *
   * For a public subgraph (publicAnswers.ts: doctors), a signed-in caller's query is first looked
   * up among the answers this router keeps until the subgraph announces a change.
   */
  override process(options: ProcessOptions): Promise<GatewayGraphQLResponse> {
    if (partOfMutation(options)) SignedDataSource.writes++;
    const cache = this.publicAnswers;
    if (cache && isQuery(options) && 'identity' in options.context && options.context.identity.userId && options.context.identity.role) {
      const { query, variables, operationName, extensions } = options.request;
      return cache.get(JSON.stringify([query, variables ?? null, operationName ?? null, extensions ?? null]), () => this.shared(options));
    }
    return this.shared(options);
  }

  /** The call, joined with an identical one in flight where allowed (see process). */
  private shared(options: ProcessOptions): Promise<GatewayGraphQLResponse> {
    const key = this.sharedKey(options);
    if (key === null) {
      this.dedupStats.sent++;
      return super.process(options);
    }
    const running = this.inFlight.get(key);
    if (running) {
      running.followers++;
      this.dedupStats.joined++;
      return running.answer.then(({ snapshot }) => copyOf(snapshot!));
    }
    this.dedupStats.sent++;
    const entry: InFlight = {
      followers: 0,
      // This first reaction runs before the caller's own: the copy is taken before the gateway touches the answer.
      answer: super.process(options).then(
        (response) => {
          this.inFlight.delete(key);
          return { response, snapshot: entry.followers > 0 ? copyOf(response) : null };
        },
        (err: unknown) => {
          this.inFlight.delete(key);
          throw err;
        },
      ),
    };
    this.inFlight.set(key, entry);
    return entry.answer.then(({ response }) => response);
  }

  private sharedKey(options: ProcessOptions): string | null {
    if (!isQuery(options) || !('identity' in options.context) || options.context.idempotencyKey) return null;
    const { userId, role, patientId, doctorId, service } = options.context.identity;
    const { query, variables, operationName, extensions } = options.request;
    return JSON.stringify([SignedDataSource.writes, userId ?? null, role ?? null, patientId ?? null, doctorId ?? null, service ?? null, query, variables ?? null, operationName ?? null, extensions ?? null]);
  }

  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<RouterContext>): void {
    const headers = request.http?.headers;
    if (!headers) return;
    headers.delete(SIGNATURE_HEADER);
    if (!('identity' in context)) {
      headers.delete(IDENTITY_HEADER);
      return;
    }
    const encoded = encodeIdentity(context.identity, {
      audience: this.serviceName,
      requestId: context.requestId,
      idempotencyKey: context.idempotencyKey,
    });
    headers.set(IDENTITY_HEADER, encoded);
    headers.set(REQUEST_ID_HEADER, context.requestId);
  }

  override async errorFromResponse(response: FetchResponse): Promise<GraphQLError> {
    let message = `The ${this.serviceName} service answered ${response.status}`;
    let code: string = ErrorCode.SUBGRAPH_UNAVAILABLE;
    try {
      const body = (await response.json()) as { errors?: { message?: string; extensions?: { code?: string } }[] };
      const first = body.errors?.[0];
      if (first?.message) message = first.message;
      if (first?.extensions?.code) code = first.extensions.code;
    } catch {
      // not JSON: keep the generic message
    }
    return new GraphQLError(message, { extensions: { code, serviceName: this.serviceName } });
  }

  override didEncounterError(error: Error): void {
    if (error instanceof GraphQLError) throw error;
    throw appError(ErrorCode.SUBGRAPH_UNAVAILABLE, `The ${this.serviceName} service is unavailable right now; please try again shortly`, {
      serviceName: this.serviceName,
    });
  }
}
