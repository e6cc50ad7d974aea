import type { GraphQLDataSourceProcessOptions, RemoteGraphQLDataSource } from '@apollo/gateway';
import { CLIENT_REQUEST_ID_HEADER } from '../platform/requestId';
import type { RouterContext } from './context';

type Options = GraphQLDataSourceProcessOptions<RouterContext>;

function setHeader({ request, context }: Options): void {
  const headers = request.http?.headers;
  if (!headers) return;
  const id = 'identity' in context ? context.clientRequestId : undefined;
  if (id) headers.set(CLIENT_REQUEST_ID_HEADER, id);
  else headers.delete(CLIENT_REQUEST_ID_HEADER);
}

/**
 * Makes a subgraph data source also send the client's own request id, when it sent an acceptable
 * one (platform/requestId.ts), in `x-client-request-id`: subgraphs keep it beside the router's id in
 * their logs and audit entries. A label for correlation only (validated again by the subgraph); who
 * the caller is and the router's request id travel in the signed identity header. Wraps the data
 * source's own `willSendRequest`, whichever class it is.
 */
export function forwardClientRequestId<T extends RemoteGraphQLDataSource<RouterContext>>(source: T): T {
  const own = source.willSendRequest?.bind(source);
  source.willSendRequest = (options: Options) => {
    const done = own?.(options);
    if (done) return done.then(() => setHeader(options));
    setHeader(options);
  };
  return source;
}
