import { ApolloClient, ApolloLink, CombinedGraphQLErrors, HttpLink, InMemoryCache, ServerError } from '@apollo/client';
import { ErrorLink } from '@apollo/client/link/error';
import { RetryLink } from '@apollo/client/link/retry';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { getMainDefinition, relayStylePagination } from '@apollo/client/utilities';
import { createClient, type Client } from 'graphql-ws';
import { OperationTypeNode } from 'graphql';
import { from, switchMap, throwError } from 'rxjs';
import { RefreshSessionDocument } from './operations';
import { sessionStore } from './session';

const ENDPOINT = '/graphql';
/** graphql-ws close codes for a refused token (router/subscriptions.ts). */
const TOKEN_REFUSED = new Set([4401, 4403]);

/** Operation context the app may set: one Idempotency-Key per user action (see useAction). */
export interface AppContext {
  idempotencyKey?: string;
}

function isSubscription(operation: ApolloLink.Operation): boolean {
  const definition = getMainDefinition(operation.query);
  return definition.kind === 'OperationDefinition' && definition.operation === OperationTypeNode.SUBSCRIPTION;
}

function isMutation(operation: ApolloLink.Operation): boolean {
  const definition = getMainDefinition(operation.query);
  return definition.kind === 'OperationDefinition' && definition.operation === OperationTypeNode.MUTATION;
}

const bearer = () => {
  const token = sessionStore.get()?.accessToken;
  return token ? `Bearer ${token}` : undefined;
};

/**
 * One Apollo Client per signed-in session (a new sign-in starts from an empty cache, so nothing
 * one user saw is shown to the next). Links, in order:
 * - renewal: an UNAUTHENTICATED answer renews the session once with the refresh token and sends
 *   the operation again; a refused renewal signs out;
 * - retry: a transport failure is retried for queries, and for mutations only when they carry an
 *   Idempotency-Key (the router answers a repeat with the first outcome, so nothing is done twice);
 * - the signed-in user's token and the action's Idempotency-Key as headers;
 * - HTTP for queries and mutations, graphql-ws on the same URL for subscriptions.
 */
function createApolloClient(): { client: ApolloClient; dispose: () => void } {
  let client: ApolloClient | null = null;
  let renewing: Promise<boolean> | null = null;

  const renew = (): Promise<boolean> => {
    const current = sessionStore.get();
    if (!current || !client) return Promise.resolve(false);
    renewing ??= client
      .mutate({ mutation: RefreshSessionDocument, variables: { refreshToken: current.refreshToken } })
      .then(
        (result) => {
          if (!result.data) return false;
          sessionStore.renew(result.data.refreshSession);
          return true;
        },
        () => false,
      )
      .then((ok) => {
        if (!ok) sessionStore.set(null);
        return ok;
      })
      .finally(() => {
        renewing = null;
      });
    return renewing;
  };

  const renewal = new ErrorLink(({ error, operation, forward }) => {
    if (operation.operationName === 'RefreshSession' || operation.operationName === 'Login') return;
    if (!CombinedGraphQLErrors.is(error) || !error.errors.some((e) => e.extensions?.code === 'UNAUTHENTICATED')) return;
    return from(renew()).pipe(switchMap((ok) => (ok ? forward(operation) : throwError(() => error))));
  });

  const retry = new RetryLink({
    delay: { initial: 500, max: 4000, jitter: true },
    attempts: {
      max: 3,
      retryIf: (error, operation) => {
        const transport = !CombinedGraphQLErrors.is(error) && (!ServerError.is(error) || error.statusCode >= 502);
        if (!transport) return false;
        return !isMutation(operation) || Boolean((operation.getContext() as AppContext).idempotencyKey);
      },
    },
  });

  const headers = new ApolloLink((operation, forward) => {
    const context = operation.getContext() as AppContext & { headers?: Record<string, string> };
    const extra: Record<string, string> = { ...context.headers };
    const authorization = bearer();
    if (authorization) extra.authorization = authorization;
    if (context.idempotencyKey) extra['idempotency-key'] = context.idempotencyKey;
    operation.setContext({ headers: extra });
    return forward(operation);
  });

  const ws: Client = createClient({
    url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${ENDPOINT}`,
    lazy: true,
    // Keep the socket a moment after the last subscription ends: a view that re-subscribes at once
    // (a re-render) reuses it instead of racing a closing socket.
    lazyCloseTimeout: 5_000,
    keepAlive: 20_000,
    connectionParams: () => ({ authorization: bearer() }),
    retryAttempts: Infinity,
    shouldRetry: () => sessionStore.get() !== null,
    on: {
      closed: (event) => {
        const code = (event as CloseEvent | undefined)?.code;
        if (code !== undefined && TOKEN_REFUSED.has(code)) void renew();
      },
    },
  });

  const transport = ApolloLink.split(isSubscription, new GraphQLWsLink(ws), new HttpLink({ uri: ENDPOINT }));

  client = new ApolloClient({
    link: ApolloLink.from([renewal, retry, headers, transport]),
    cache: new InMemoryCache({
      typePolicies: {
        Query: {
          fields: {
            patients: relayStylePagination(['search']),
            doctors: relayStylePagination(['specialty', 'includeInactive']),
            appointments: relayStylePagination(['filter']),
            medications: relayStylePagination(['search', 'lowStock']),
            prescriptions: relayStylePagination(['patientId', 'doctorId', 'status']),
            notifications: relayStylePagination(['filter']),
            users: relayStylePagination(['role']),
            auditLog: relayStylePagination(['filter']),
          },
        },
        Patient: { fields: { appointments: relayStylePagination(['status']), notifications: relayStylePagination(['unreadOnly']) } },
      },
    }),
    defaultOptions: { watchQuery: { fetchPolicy: 'cache-and-network' } },
  });

  return {
    client,
    dispose: () => {
      void ws.dispose();
      client?.stop();
    },
  };
}

let current: { key: string; client: ApolloClient; dispose: () => void } | null = null;

/**
 * The Apollo Client of a session (`key`: the signed-in user's id, or "signed-out"): made on first
 * use, the same one for every later call with that key; a new key drops the previous client, its
 * cache and its socket. Kept outside React's effects so a re-mounted view never closes a live socket.
 */
export function clientFor(key: string): ApolloClient {
  if (current?.key !== key) {
    current?.dispose();
    current = { key, ...createApolloClient() };
  }
  return current.client;
}
