import type { KeyObject } from 'node:crypto';
import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { GraphQLError } from 'graphql';
import { appError, ErrorCode } from '../platform/errors';
import { encodeIdentity, IDENTITY_HEADER, REQUEST_ID_HEADER, SIGNATURE_HEADER, signBody, signingKey } from '../platform/identity';
import type { RouterContext } from './context';

type FetchResponse = Parameters<RemoteGraphQLDataSource['errorFromResponse']>[0];
type Fetcher = RemoteGraphQLDataSource['fetcher'];
type FetcherInit = NonNullable<Parameters<Fetcher>[1]>;

/**
 * The subgraph fetch: seals the identity header that `willSendRequest` wrote with a signature over
 * it and the exact body bytes being sent (the gateway serialises the body only after
 * `willSendRequest`, so the fetch is the first place that sees them), then sends with a timeout.
 */
function signingFetcher(key: KeyObject, timeoutMs: number): Fetcher {
  const send = (url: string, init: FetcherInit = {}) => {
    const headers: Record<string, string> = { ...init.headers };
    const encoded = headers[IDENTITY_HEADER];
    delete headers[SIGNATURE_HEADER];
    if (encoded) headers[SIGNATURE_HEADER] = signBody(encoded, key, init.body ?? '');
    return fetch(url, { method: init.method, headers, body: init.body, signal: AbortSignal.timeout(timeoutMs) });
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
 * work, and only the client, with its Idempotency-Key, may safely ask again. The fetcher is plain
 * `fetch` (undici, which does not retry a POST) and nothing here calls it twice.
 */
export class SignedDataSource extends RemoteGraphQLDataSource<RouterContext> {
  constructor(
    private readonly serviceName: string,
    url: string,
    secret: string,
    timeoutMs: number,
  ) {
    // The key is made once per subgraph, not per request.
    super({ url, fetcher: signingFetcher(signingKey(secret), timeoutMs) });
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
