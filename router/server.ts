import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { ApolloServer } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import { AUDIT_DB, AuditTrail, auditModel } from '../platform/audit';
import { deviceFromCookie, newDeviceCookie, addressKey, type ClientInfo } from '../platform/client';
import { configuredSubgraphUrl, dbName, loadConfig, type Config } from '../platform/config';
import { connectDb } from '../platform/db';
import { toClientError } from '../platform/errors';
import { REQUEST_ID_HEADER } from '../platform/identity';
import { createLogger, type Logger } from '../platform/logger';
import { requestLogPlugin } from '../platform/requestLog';
import { routerRequestIds } from '../platform/requestId';
import { EVENTS_DB, Subscriber } from '../platform/pubsub';
import { DEFAULT_PORTS, SUBGRAPHS, urlHost, type SubgraphName } from '../platform/services';
import type { RouterContext } from './context';
import { identityFromRequest } from './auth';
import { ClientDataSource } from './clientDataSource';
import { idempotencyPlugin, IdempotencyStore, ROUTER_DB } from './idempotency';
import { costLimitPlugin, listSizesOf } from './queryCost';
import { RequestRateLimiter, retryAfterPlugin } from './rateLimit';
import { operationCheckPlugin } from './operationCheck';
import { forwardClientRequestId } from './requestIds';
import { Metrics } from '../platform/metrics';
import { databaseCheck, liveEventsCheck, readinessHandler, type ReadinessCheck } from '../platform/readiness';
import { traceRequests } from '../platform/tracing';
import { observeSubgraph } from './observeSubgraph';
import { corsMiddleware } from './cors';
import { incrementalDeliveryCheck } from './incremental';
import { TrustedDocuments } from './trustedDocuments';
import { LiveSubscriptions } from './subscriptions';
import { PUBLIC_SUBGRAPHS, PublicAnswers } from './publicAnswers';
import { HttpPools } from '../platform/httpPool';
import { mountWebApp } from './web';

export const SUPERGRAPH_PATH = path.join(__dirname, '..', 'schema', 'supergraph.graphql');

export interface RouterOptions {
  port?: number;
  config?: Config;
  logger?: Logger;
  /** Where each subgraph answers; default from SUBGRAPH_<NAME>_URL, else the supergraph's URL. */
  subgraphUrls?: Partial<Record<SubgraphName, string>>;
}

export interface RunningRouter {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/**
 * How often the live-event stream is read while this router serves no subscription. At the
 * Subscriber's default (50 ms) an idle router alone sent the database 18 reads a second, two
 * thirds of an idle stack's commands.
 */
const IDLE_EVENTS_POLL_MS = 1_000;

/** Body-parser failures (too large, not JSON) as a GraphQL-shaped answer, never an HTML page. */
const jsonErrors: express.ErrorRequestHandler = (err: { status?: number; type?: string; message?: string }, _req, res, next) => {
  if (res.headersSent) return next(err);
  const status = err.status && err.status >= 400 && err.status < 500 ? err.status : 400;
  const message = err.type === 'entity.too.large' ? 'The request body is too large' : 'The request body is not valid JSON';
  res.status(status).json({ errors: [{ message, extensions: { code: 'BAD_REQUEST' } }] });
};

function isSubgraphName(name: string): name is SubgraphName {
  return (SUBGRAPHS as readonly string[]).includes(name);
}

/** The single entry of the graph: Apollo Server + Apollo Gateway over schema/supergraph.graphql. */
export async function startRouter(opts: RouterOptions = {}): Promise<RunningRouter> {
  const cfg = opts.config ?? loadConfig();
  const log = opts.logger ?? createLogger('router', cfg.LOG_LEVEL);
  const urlFor = (name: string, composedUrl: string | undefined): string => {
    if (!isSubgraphName(name)) throw new Error(`Supergraph names unknown subgraph ${name}`);
    return opts.subgraphUrls?.[name] ?? configuredSubgraphUrl(cfg, name) ?? composedUrl ?? '';
  };

  const supergraphSdl = readFileSync(SUPERGRAPH_PATH, 'utf8');
  // /metrics (platform/metrics.ts): operations, subgraph fetches, database commands, live events, WebSockets.
  const metrics = new Metrics('router');
  const fetches = metrics.subgraphFetches();
  /** Where each subgraph of the loaded supergraph answers (readiness asks each one's /ready). */
  const subgraphUrls = new Map<string, string>();
  // Keep-alive connections to the subgraphs, shared by every call of this router (platform/httpPool.ts).
  const subgraphHttp = new HttpPools(cfg.SUBGRAPH_CONNECTIONS);
  const gateway = new ApolloGateway({
    supergraphSdl,
    buildService: ({ name, url }) => {
      subgraphUrls.set(name, urlFor(name, url));
      return observeSubgraph(forwardClientRequestId(new ClientDataSource(cfg.INTERNAL_SECRET, name, urlFor(name, url), cfg.INTERNAL_SECRET, cfg.SUBGRAPH_TIMEOUT_MS, subgraphHttp, publicAnswers.get(name) ?? null)), name, fetches);
    },
    logger: log,
  });
  let supergraphLoaded = false;
  gateway.onSchemaLoadOrUpdate(() => {
    supergraphLoaded = true;
  });

  const production = cfg.NODE_ENV === 'production';
  // TRUSTED_DOCUMENTS: only the operations of these manifests run (router/trustedDocuments.ts).
  const trusted = cfg.TRUSTED_DOCUMENTS.length ? TrustedDocuments.load(cfg.TRUSTED_DOCUMENTS) : null;
  if (trusted) log.info({ manifests: trusted.files, operations: trusted.size }, 'trusted documents only');
  // Depth, alias and directive limits, checked before anything is planned or fetched. The token
  // limit is graphql-js's own parser option (armor's version answers HTTP 500). The cost limit is
  // the router's own (queryCost.ts: objects estimated from list sizes, with the variables known).
  const armor = new ApolloArmor({
    maxDepth: { n: cfg.MAX_QUERY_DEPTH },
    maxAliases: { n: cfg.MAX_ALIASES },
    costLimit: { enabled: false },
    maxTokens: { enabled: false },
    maxDirectives: { n: 50 },
    blockFieldSuggestion: { enabled: production },
  }).protect();
  const listSizes = listSizesOf(supergraphSdl);
  const rateLimiter = new RequestRateLimiter(cfg.RATE_LIMIT_PER_MINUTE, cfg.RATE_LIMIT_ANONYMOUS_PER_MINUTE);
  // Live events (published by subgraphs in any process) feed the WebSocket subscriptions.
  const eventsDb = await connectDb(cfg, EVENTS_DB, log);
  // Read once a second while nobody subscribes (the kept public answers catch up before each use);
  // LiveFanout polls every 20 ms and opens the doorbell while subscriptions run.
  const events = await Subscriber.open(eventsDb, dbName(cfg, EVENTS_DB), log, { pollMs: IDLE_EVENTS_POLL_MS });
  // Answers of doctors (the same for every signed-in caller) until a doctor changes (router/publicAnswers.ts).
  const publicAnswers = new Map(Object.entries(PUBLIC_SUBGRAPHS).map(([name, topic]) => [name, new PublicAnswers(events, topic)]));
  metrics.watchDatabase(eventsDb);
  metrics.watchLiveEvents(() => [events]);
  // Idempotency-Key records of mutations (router/idempotency.ts), in the router's own database.
  const routerDb = await connectDb(cfg, ROUTER_DB, log);
  metrics.watchDatabase(routerDb);
  const idempotency = IdempotencyStore.open(routerDb, {
    // A booking's plan is a mutation fetch and up to two rounds of entity fetches.
    leaseMs: 3 * cfg.SUBGRAPH_TIMEOUT_MS + 5_000,
    waitMs: cfg.SUBGRAPH_TIMEOUT_MS,
  });
  const sweepIdempotency = setInterval(
    () => void idempotency.sweep().catch((err: Error) => log.warn({ err: err.message }, 'idempotency sweep failed')),
    3_600_000,
  );
  sweepIdempotency.unref();
  // Who received a live answer read with another subscriber's identity (router/liveOperation.ts).
  const liveAudit = new AuditTrail(await auditModel(eventsDb, dbName(cfg, AUDIT_DB)));
  const live = new LiveSubscriptions({
    jwtSecret: cfg.JWT_SECRET,
    events,
    audit: liveAudit,
    validationRules: armor.validationRules,
    costLimit: { maxCost: cfg.MAX_QUERY_COST, listSizes },
    maxTokens: cfg.MAX_QUERY_TOKENS,
    maxPayloadBytes: cfg.MAX_REQUEST_BYTES,
    trustedDocuments: trusted,
    maxConnectionsPerUser: cfg.WS_MAX_CONNECTIONS_PER_USER,
    maxSubscriptionsPerConnection: cfg.WS_MAX_SUBSCRIPTIONS_PER_CONNECTION,
    doorbellHost: cfg.LIVE_DOORBELL_HOST || null,
    production,
    log,
  });

  const app = express();
  app.disable('x-powered-by');
  // X-Forwarded-For (and -Proto) count only from the proxies in TRUST_PROXY; by default nobody's.
  app.set('trust proxy', cfg.TRUST_PROXY.length ? cfg.TRUST_PROXY : false);
  const httpServer = http.createServer(app);
  const server = new ApolloServer<RouterContext>({
    gateway,
    csrfPrevention: true,
    introspection: !production,
    allowBatchedHttpRequests: false,
    // Automatic persisted queries (Apollo Server's default, per router instance); with trusted
    // documents the manifests are the cache: their hashes run anywhere, nothing else is stored.
    ...(trusted ? { persistedQueries: { cache: trusted.apqCache(), ttl: null } } : {}),
    parseOptions: { maxTokens: cfg.MAX_QUERY_TOKENS },
    includeStacktraceInErrorResponses: false,
    validationRules: armor.validationRules,
    formatError: toClientError,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      operationCheckPlugin<RouterContext>(),
      live.plugin(),
      requestLogPlugin<RouterContext>(),
      metrics.plugin<RouterContext>(),
      retryAfterPlugin<RouterContext>(),
      idempotencyPlugin(idempotency, log),
      ...armor.plugins,
      costLimitPlugin<RouterContext>(listSizes, cfg.MAX_QUERY_COST),
      ...(production ? [ApolloServerPluginLandingPageDisabled()] : []),
    ],
  });
  await server.start();
  live.listen(httpServer, '/graphql', server);
  metrics.watchWebSockets(() => live.counts);

  app.get('/health', (_req, res) => {
    res.json({ status: 'ok', service: 'router' });
  });
  // Ready to take traffic: the supergraph is loaded, every subgraph is ready, live events are read.
  const subgraphReady = (url: string): ReadinessCheck => async () => {
    const ready = new URL('/ready', url);
    const res = await fetch(ready, { signal: AbortSignal.timeout(1_500) }).catch((err: Error) => err);
    if (res instanceof Error) return `${ready} unreachable (${res.message})`;
    await res.body?.cancel();
    return res.ok ? null : `${ready} answered ${res.status}`;
  };
  app.get(
    '/ready',
    readinessHandler('router', {
      supergraph: async () => (supergraphLoaded ? null : 'supergraph not loaded'),
      subgraphs: async () => {
        const failed = (await Promise.all([...subgraphUrls.values()].map((url) => subgraphReady(url)()))).filter((r) => r !== null);
        return failed.length ? failed.join('; ') : null;
      },
      liveEvents: liveEventsCheck(() => [events]),
      // Mutations with an Idempotency-Key need the router's own database.
      database: databaseCheck(routerDb),
    }),
  );
  app.get('/metrics', metrics.handler());
  const tracing = traceRequests('router');
  app.use('/graphql', metrics.httpResponses());
  app.use(
    '/graphql',
    corsMiddleware(cfg.CORS_ORIGINS),
    express.json({ limit: cfg.MAX_REQUEST_BYTES }),
    ...(trusted ? [trusted.middleware(log)] : []),
    incrementalDeliveryCheck(cfg.MAX_QUERY_TOKENS),
    ...(tracing ? [tracing] : []),
    expressMiddleware(server, {
      context: async ({ req, res }) => {
        // The router's own request id; the client's x-request-id only beside it, when acceptable (platform/requestId.ts).
        const { requestId, clientRequestId, refused } = routerRequestIds(req.header(REQUEST_ID_HEADER));
        res.setHeader(REQUEST_ID_HEADER, requestId);
        const reqLog = log.child(clientRequestId ? { requestId, clientRequestId } : { requestId });
        if (refused) reqLog.info({ length: req.header(REQUEST_ID_HEADER)?.length }, 'x-request-id not used: at most 128 of A-Z a-z 0-9 . _ : -');
        const identity = await identityFromRequest(req, cfg.JWT_SECRET);
        const client: ClientInfo = { address: addressKey(req.ip), device: deviceFromCookie(req.header('cookie'), cfg.INTERNAL_SECRET) };
        if (!client.device) {
          const cookie = newDeviceCookie(cfg.INTERNAL_SECRET, req.secure);
          client.device = cookie.device;
          res.append('set-cookie', cookie.setCookie);
        }
        await rateLimiter.consume(identity, client.address);
        return { identity, requestId, ...(clientRequestId ? { clientRequestId } : {}), client, log: reqLog.child({ userId: identity.userId ?? null }) };
      },
    }),
  );
  app.use(jsonErrors);
  mountWebApp(app);

  const port = opts.port ?? Number(process.env.PORT ?? DEFAULT_PORTS.router);
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(port, cfg.HOST, () => resolve());
  });
  const actualPort = (httpServer.address() as AddressInfo).port;
  const url = `http://${urlHost(cfg.HOST)}:${actualPort}/graphql`;
  log.info({ url }, 'router ready');
  let stopping: Promise<void> | undefined;
  return {
    url,
    port: actualPort,
    stop: () =>
      (stopping ??= (async () => {
        await server.stop(); // also closes every WebSocket (live.plugin's drainServer)
        await events.close();
        await eventsDb.close();
        clearInterval(sweepIdempotency);
        await routerDb.close();
        await subgraphHttp.close();
        log.info('router stopped');
      })()),
  };
}
