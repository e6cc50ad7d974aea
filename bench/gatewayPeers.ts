/**
 * The peers `npm run bench:gateway` measures HealthSync's router against, one process each:
 *
 *   tsx bench/gatewayPeers.ts stock   # @apollo/gateway inside @apollo/server (standalone), stock
 *   tsx bench/gatewayPeers.ts hive    # Hive Gateway (@graphql-hive/gateway createGatewayRuntime), defaults
 *
 * on the same supergraph (schema/supergraph.graphql, subgraph URLs from SUBGRAPH_<NAME>_URL), with
 * only what the subgraphs require added: the caller's identity from the same access token
 * (platform/jwt.ts, JWT_SECRET) signed for each subgraph call over the exact body bytes
 * (platform/identity.ts, INTERNAL_SECRET), as the router does. Nothing else of the router (limits,
 * rate limiting, request log, idempotency, audit of fan-out) is added. Hive Gateway keeps its
 * default deduplication of identical in-flight subgraph requests; the caller's token hash is a
 * propagated header so that it deduplicates per caller, never across users (without it Hive
 * Gateway's key is URL and body only, and the signing below, done after that key, would hand one
 * user's answer to another).
 * Listens on 127.0.0.1:PORT.
 */
import { createHash, randomUUID } from 'node:crypto';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ApolloGateway, RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { createRequire } from 'node:module';
import { encodeIdentity, IDENTITY_HEADER, REQUEST_ID_HEADER, SIGNATURE_HEADER, signBody, signingKey, type Identity } from '../platform/identity';
import { verifyAccessToken } from '../platform/jwt';
import { SUBGRAPHS, subgraphUrlEnv } from '../platform/services';

const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};

/** The supergraph with each subgraph's URL replaced by SUBGRAPH_<NAME>_URL (the stack's free ports). */
export function supergraphWithUrls(urls: Readonly<Record<string, string>>): string {
  let sdl = readFileSync(path.join(__dirname, '..', 'schema', 'supergraph.graphql'), 'utf8');
  for (const [name, url] of Object.entries(urls)) {
    sdl = sdl.replace(new RegExp(`(@join__graph\\(name: "${name}", url: ")[^"]*(")`), `$1${url}$2`);
  }
  return sdl;
}

async function identityOf(authorization: string | null | undefined, jwtSecret: string): Promise<Identity> {
  const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
  if (!token) return {};
  const check = await verifyAccessToken(token, jwtSecret);
  return check.ok ? check.identity : {};
}

/**
 * The little of @graphql-hive/gateway used here, typed locally: importing its types would merge
 * graphql-yoga's GraphQLErrorExtensions (http.headers as a record) into the whole project's, where
 * Apollo Server's (a Map) live. Loaded with require, so TypeScript does not read its declarations.
 */
interface HiveFetchPayload {
  url: string;
  options: { body?: unknown; headers?: Record<string, string> };
  setOptions(options: { body?: unknown; headers?: Record<string, string> }): void;
  context?: { request?: Request };
}
interface HiveModule {
  createGatewayRuntime(config: {
    supergraph: string;
    logging: string;
    graphiql: boolean;
    landingPage: boolean;
    propagateHeaders: { fromClientToSubgraphs(payload: { request: Request; subgraphName: string }): Record<string, string> };
    plugins(): { onFetch(payload: HiveFetchPayload): Promise<void> }[];
  }): http.RequestListener;
}
const loadHive = (): HiveModule => createRequire(__filename)('@graphql-hive/gateway') as HiveModule;

interface PeerContext {
  identity: Identity;
  requestId: string;
}

/** A stock RemoteGraphQLDataSource (its own fetcher) that also signs the identity for its subgraph. */
class SigningDataSource extends RemoteGraphQLDataSource<PeerContext> {
  constructor(
    private readonly subgraph: string,
    url: string,
    secret: string,
  ) {
    super({ url });
    const key = signingKey(secret);
    const inner = this.fetcher;
    type Init = NonNullable<Parameters<typeof inner>[1]>;
    this.fetcher = ((input: string, init: Init = {}) => {
      const headers: Record<string, string> = { ...(init.headers as Record<string, string>) };
      const encoded = headers[IDENTITY_HEADER];
      if (encoded) headers[SIGNATURE_HEADER] = signBody(encoded, key, typeof init.body === 'string' ? init.body : '');
      return inner(input, { ...init, headers });
    }) as typeof inner;
  }

  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<PeerContext>): void {
    const headers = request.http?.headers;
    if (!headers || !('identity' in context)) return;
    headers.set(IDENTITY_HEADER, encodeIdentity(context.identity, { audience: this.subgraph, requestId: context.requestId }));
    headers.set(REQUEST_ID_HEADER, context.requestId);
  }
}

async function stock(port: number, urls: Record<string, string>): Promise<void> {
  const secret = env('INTERNAL_SECRET');
  const jwtSecret = env('JWT_SECRET');
  const server = new ApolloServer<PeerContext>({
    gateway: new ApolloGateway({ supergraphSdl: supergraphWithUrls(urls), buildService: ({ name, url }) => new SigningDataSource(name, url ?? urls[name], secret) }),
  });
  await startStandaloneServer(server, {
    listen: { port, host: '127.0.0.1' },
    context: async ({ req }) => ({ identity: await identityOf(req.headers.authorization, jwtSecret), requestId: randomUUID() }),
  });
}

async function hive(port: number, urls: Record<string, string>): Promise<void> {
  const key = signingKey(env('INTERNAL_SECRET'));
  const jwtSecret = env('JWT_SECRET');
  const nameOf = new Map(Object.entries(urls).map(([name, url]) => [url, name]));
  /** One identity and request id per client request. */
  const perRequest = new WeakMap<Request, Promise<{ identity: Identity; requestId: string }>>();
  const caller = (request: Request) => {
    let found = perRequest.get(request);
    if (!found) {
      found = identityOf(request.headers.get('authorization'), jwtSecret).then((identity) => ({ identity, requestId: randomUUID() }));
      perRequest.set(request, found);
    }
    return found;
  };
  const signing = {
    async onFetch({ url, options, setOptions, context }: HiveFetchPayload): Promise<void> {
      const subgraph = nameOf.get(url);
      const request = context?.request;
      if (!subgraph || !request) return;
      const { identity, requestId } = await caller(request);
      const encoded = encodeIdentity(identity, { audience: subgraph, requestId });
      const body = typeof options.body === 'string' ? options.body : '';
      setOptions({ ...options, headers: { ...options.headers, [IDENTITY_HEADER]: encoded, [SIGNATURE_HEADER]: signBody(encoded, key, body), [REQUEST_ID_HEADER]: requestId } });
    },
  };
  const gateway = loadHive().createGatewayRuntime({
    supergraph: supergraphWithUrls(urls),
    logging: 'error',
    graphiql: false,
    landingPage: false,
    // Part of Hive Gateway's in-flight deduplication key: per caller, never across users.
    propagateHeaders: {
      fromClientToSubgraphs: ({ request }) => ({ 'x-bench-caller': createHash('sha256').update(request.headers.get('authorization') ?? '').digest('base64url') }),
    },
    plugins: () => [signing],
  });
  const server = http.createServer(gateway);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
}

if (require.main === module) {
  const which = process.argv[2];
  const port = Number(env('PORT'));
  const urls = Object.fromEntries(SUBGRAPHS.map((n) => [n, env(subgraphUrlEnv(n))]));
  const started = which === 'stock' ? stock(port, urls) : which === 'hive' ? hive(port, urls) : Promise.reject(new Error('usage: gatewayPeers.ts stock|hive'));
  started.then(
    () => console.log(JSON.stringify({ level: 30, msg: `${which} gateway ready`, port })),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
