import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { GraphQLError } from 'graphql';
import { appError, ErrorCode } from '../platform/errors';
import { REQUEST_ID_HEADER, signIdentity } from '../platform/identity';
import type { RouterContext } from './context';

type FetchResponse = Parameters<RemoteGraphQLDataSource['errorFromResponse']>[0];

/**
 * How the router calls a subgraph: signs the caller's identity (with a mutation's idempotency key,
 * router/idempotency.ts), forwards the request id, gives up after a timeout, and turns transport
 * failures into a clear SUBGRAPH_UNAVAILABLE error.
 *
 * It never retries, a mutation least of all: a call that failed or timed out may have done its
 * work, and only the client, with its Idempotency-Key, may safely ask again. The fetcher is plain
 * `fetch` (undici, which does not retry a POST) and nothing here calls it twice.
 */
export class SignedDataSource extends RemoteGraphQLDataSource<RouterContext> {
  constructor(
    private readonly serviceName: string,
    url: string,
    private readonly secret: string,
    timeoutMs: number,
  ) {
    super({
      url,
      fetcher: ((input: string, init?: RequestInit) =>
        fetch(input, { ...init, signal: AbortSignal.timeout(timeoutMs) })) as unknown as RemoteGraphQLDataSource['fetcher'],
    });
  }

  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<RouterContext>): void {
    const headers = request.http?.headers;
    if (!headers || !('identity' in context)) return;
    const signed = signIdentity(context.identity, this.secret, context.requestId, Date.now(), context.idempotencyKey);
    for (const [name, value] of Object.entries(signed)) {
      headers.set(name, value);
    }
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
