import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import express from 'express';
import { ApolloServer } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { GraphQLError, parse } from 'graphql';
import type { Connection } from 'mongoose';
import { CLIENT_HEADER, verifyClient } from './client';
import { dbName, loadConfig, loadConfigOrExit, type Config } from './config';
import { connectDb } from './db';
import { ErrorCode, toClientError } from './errors';
import { bodyDigest, IDENTITY_HEADER, REQUEST_ID_HEADER, SIGNATURE_HEADER, signingKey, verifyIdentity } from './identity';
import { createLogger, type Logger } from './logger';
import type { SubgraphContext } from './context';
import { applyAccessPolicy, type AccessPolicy } from './authz';
import { AUDIT_DB, AuditBuffer, AuditTrail, auditModel } from './audit';
import { requestLogPlugin } from './requestLog';
import { acceptableRequestId, CLIENT_REQUEST_ID_HEADER } from './requestId';
import { scalarsFor } from './scalars';
import { Metrics } from './metrics';
import { Subscriber } from './pubsub';
import { exitOnUnhandledRejection, stopRequests } from './processExit';
import { databaseCheck, jobWorkerCheck, liveEventsCheck, readinessHandler } from './readiness';
import { startTracing, traceRequests } from './tracing';
import { DEFAULT_PORTS, type SubgraphName } from './services';

/** What a service hands to the shared bootstrap. */
export interface SubgraphDefinition<TCtx extends SubgraphContext> {
  name: SubgraphName;
  /** Absolute path of the service's schema.graphql. */
  schemaPath: string;
  resolvers: GraphQLResolverMap<TCtx>;
  /** Who may do what: every field of the schema must be covered (platform/authz.ts). */
  access: AccessPolicy<TCtx>;
  /**
   * Creates models and indexes on the service's own connection, starts what runs in the
   * background (Agenda workers, relays; stopped through `onStop`), and returns the per-request
   * context factory.
   */
  setup(conn: Connection, log: Logger, cfg: Config, onStop: (fn: () => Promise<void>) => void): Promise<(base: SubgraphContext) => TCtx>;
}

export interface RunningSubgraph {
  name: SubgraphName;
  url: string;
  port: number;
  conn: Connection;
  stop(): Promise<void>;
}

/** Starts one subgraph: DB connection, Apollo subgraph server, /health, /ready, request log. */
export async function startSubgraph<TCtx extends SubgraphContext>(
  def: SubgraphDefinition<TCtx>,
  opts: { port?: number; config?: Config; logger?: Logger } = {},
): Promise<RunningSubgraph> {
  const cfg = opts.config ?? loadConfig();
  const log = opts.logger ?? createLogger(def.name, cfg.LOG_LEVEL);
  const conn = await connectDb(cfg, def.name, log);
  const stopHooks: (() => Promise<void>)[] = [];
  const makeContext = await def.setup(conn, log, cfg, (fn) => stopHooks.push(fn));
  const audit = new AuditTrail(await auditModel(conn, dbName(cfg, AUDIT_DB)));
  // /metrics (platform/metrics.ts): requests, database commands, jobs, backlogs, live-event lag.
  const liveReaders = () => Subscriber.openedOn(conn);
  const metrics = new Metrics(def.name);
  metrics.watchDatabase(conn);
  metrics.watchJobs();
  metrics.watchBacklogs(conn);
  metrics.watchLiveEvents(liveReaders);

  const typeDefs = parse(readFileSync(def.schemaPath, 'utf8'));
  const schema = applyAccessPolicy(
    buildSubgraphSchema([{ typeDefs, resolvers: { ...scalarsFor(typeDefs), ...def.resolvers } as GraphQLResolverMap<unknown> }]),
    def.access,
  );

  const app = express();
  const httpServer = http.createServer(app);
  const server = new ApolloServer<TCtx>({
    schema,
    includeStacktraceInErrorResponses: false,
    formatError: toClientError,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      ApolloServerPluginInlineTraceDisabled(),
      // Apollo Server installs its cache-control plugin unless told not to. Nothing here uses cache
      // hints, and its per-field hook makes Apollo wrap every resolver of the schema, default ones
      // included, with a hook call and a policy object per resolved field.
      ApolloServerPluginCacheControlDisabled(),
      requestLogPlugin<TCtx>('debug'),
      metrics.plugin<TCtx>(),
      // The audit trail is written when the request ends, whatever its outcome.
      { requestDidStart: async () => ({ willSendResponse: ({ contextValue }) => contextValue.audit.flush(contextValue.log) }) },
    ],
  });
  await server.start();

  app.get('/health', (_req, res) => {
    res.json({ status: 'ok', service: def.name });
  });
  // Ready to take traffic: its database answers, its job worker polls, its live-event readers read.
  app.get('/ready', readinessHandler(def.name, { database: databaseCheck(conn), jobs: jobWorkerCheck(def.name), liveEvents: liveEventsCheck(liveReaders) }));
  app.get('/metrics', metrics.handler());
  const tracing = traceRequests(def.name);
  // Calls are signed over their exact body bytes (platform/identity.ts): its SHA-256 is taken once,
  // from the bytes express.json reads, before they are parsed.
  const key = signingKey(cfg.INTERNAL_SECRET);
  const digests = new WeakMap<http.IncomingMessage, Buffer>();
  app.use(
    '/graphql',
    express.json({ limit: '1mb', verify: (req, _res, buf) => void digests.set(req, bodyDigest(buf)) }),
    ...(tracing ? [tracing] : []),
    expressMiddleware(server, {
      context: async ({ req }) => {
        const verified = verifyIdentity(
          { identity: req.header(IDENTITY_HEADER), signature: req.header(SIGNATURE_HEADER), bodyDigest: digests.get(req) },
          key,
          def.name,
        );
        if (!verified.ok) {
          log.warn({ reason: verified.reason, ip: req.ip }, 'refused call without a valid router signature');
          throw new GraphQLError(`This service only answers the HealthSync router (${verified.reason})`, {
            extensions: { code: ErrorCode.UNAUTHENTICATED, http: { status: 401 } },
          });
        }
        // The router's id of the request (signed), and the client's own beside it (platform/requestId.ts).
        const requestId = verified.requestId ?? acceptableRequestId(req.header(REQUEST_ID_HEADER)) ?? randomUUID();
        const clientRequestId = acceptableRequestId(req.header(CLIENT_REQUEST_ID_HEADER));
        const reqLog = log.child(clientRequestId ? { requestId, clientRequestId } : { requestId });
        return makeContext({
          identity: verified.identity,
          requestId,
          ...(clientRequestId ? { clientRequestId } : {}),
          log: reqLog,
          audit: new AuditBuffer(audit, def.name, verified.identity, requestId, clientRequestId),
          idempotencyKey: verified.idempotencyKey,
          client: verifyClient(req.header(CLIENT_HEADER), cfg.INTERNAL_SECRET, req.header(IDENTITY_HEADER)),
        });
      },
    }),
  );

  const port = opts.port ?? DEFAULT_PORTS[def.name];
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(port, cfg.HOST, () => resolve());
  });
  const actualPort = (httpServer.address() as AddressInfo).port;
  const url = `http://${cfg.HOST === '0.0.0.0' ? '127.0.0.1' : cfg.HOST}:${actualPort}/graphql`;
  log.info({ url }, 'subgraph ready');

  let stopping: Promise<void> | undefined;
  return {
    name: def.name,
    url,
    port: actualPort,
    conn,
    stop: () =>
      (stopping ??= (async () => {
        await server.stop();
        for (const hook of stopHooks.reverse()) await hook().catch((err: Error) => log.error({ err: err.message }, 'stop hook failed'));
        await conn.close();
        log.info('subgraph stopped');
      })()),
  };
}

/** Entry point of a subgraph process: PORT from env, clean stop on SIGTERM/SIGINT. */
export function runSubgraphMain<TCtx extends SubgraphContext>(def: SubgraphDefinition<TCtx>): void {
  const cfg = loadConfigOrExit(def.name);
  const log = createLogger(def.name, cfg.LOG_LEVEL);
  const port = process.env.PORT ? Number(process.env.PORT) : undefined;
  exitOnUnhandledRejection(log);
  let stopTracing: (() => Promise<void>) | null = null;
  const stops = stopRequests();
  startTracing(def.name)
    .then((stop) => {
      stopTracing = stop;
      return startSubgraph(def, { port, config: cfg, logger: log });
    })
    .then((running) => {
      const shutdown = (signal: string) => {
        log.info({ signal }, 'shutting down');
        running
          .stop()
          .then(() => stopTracing?.())
          .then(
            () => process.exit(0),
            (err: unknown) => {
              log.error({ err }, 'unclean shutdown');
              process.exit(1);
            },
          );
      };
      stops.onStop(shutdown);
    })
    .catch((err: unknown) => {
      log.fatal({ err: (err as Error).message }, 'subgraph failed to start');
      process.exit(1);
    });
}
