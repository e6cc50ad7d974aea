import type { ApolloServerPlugin } from '@apollo/server';
import type { RequestHandler } from 'express';
import type { Connection, mongo } from 'mongoose';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { BaseContext } from './context';
import { ErrorCode } from './errors';
import { runningAgendas } from './jobs';
import { Subscriber } from './pubsub';
import { Queue } from './queue';

/**
 * Prometheus metrics of one process (router or subgraph), served at `/metrics`. One registry per
 * server, so that tests running several servers in one process keep their figures apart; each of
 * its series carries `service` (Node.js process metrics, once per process, do not). Figures that need the database (jobs due, backlogs) are read when
 * Prometheus scrapes, never on the request path or on every poll. Labels are bounded: operation
 * names are checked and capped, error outcomes are the stable codes of platform/errors.ts.
 */
export const METRICS_PREFIX = 'healthsync_';

const REQUEST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const DB_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5];
const LAG_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Distinct operation names one process reports; later ones count as "other". */
export const MAX_OPERATION_NAMES = 200;
/** A scrape's database reads give up after this long (the series are then missing, and scrape errors counted). */
const SCRAPE_QUERY_MS = 2_000;

/** Outcomes beside "ok": the public error codes and Apollo Server's own request errors; anything else is "error". */
const OUTCOMES = new Set<string>([
  ...Object.values(ErrorCode),
  'GRAPHQL_PARSE_FAILED',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
]);

export function outcomeOf(errors: readonly { extensions?: { code?: unknown } }[] | undefined): string {
  if (!errors?.length) return 'ok';
  const code = errors[0].extensions?.code;
  return typeof code === 'string' && OUTCOMES.has(code) ? code : 'error';
}

/** Driver commands reported by name; anything else is "other". */
const COMMANDS = new Set([
  'find', 'getMore', 'insert', 'update', 'delete', 'findAndModify', 'aggregate', 'count', 'distinct',
  'createIndexes', 'listCollections', 'create', 'killCursors',
]);

/**
 * Node.js' own metrics (process_cpu_seconds_total, nodejs_eventloop_lag_seconds,
 * nodejs_heap_size_used_bytes, …), collected once per process whatever number of servers it runs
 * (each collector keeps an event-loop monitor and GC observer for good). Served by every server of
 * the process beside its own series, without the `service` label (Prometheus' `instance` names the process).
 */
let processRegistry: Registry | null = null;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

type JobsCollection = { aggregate(pipeline: object[], options: object): { toArray(): Promise<{ _id: unknown; due: number }[]> }; find(filter: object, options: object): { toArray(): Promise<{ nextRunAt?: Date | null }[]> } };

export class Metrics {
  readonly registry = new Registry();
  private readonly operationNames = new Set<string>();
  private readonly requests: Counter<'operation' | 'outcome'>;
  private readonly requestSeconds: Histogram<'operation' | 'outcome'>;
  private readonly scrapeErrors: Counter<'source'>;
  private dbSeconds: Histogram<'command' | 'outcome'> | null = null;
  private readonly watchedClients = new WeakSet<mongo.MongoClient>();
  private liveLag: Histogram | null = null;
  private readonly lagWatched = new WeakSet<Subscriber>();

  constructor(readonly service: string) {
    this.registry.setDefaultLabels({ service });
    processMetrics();
    this.requests = new Counter({
      name: `${METRICS_PREFIX}graphql_requests_total`,
      help: 'GraphQL operations answered, by operation name and outcome (ok or the first error code)',
      labelNames: ['operation', 'outcome'],
      registers: [this.registry],
    });
    this.requestSeconds = new Histogram({
      name: `${METRICS_PREFIX}graphql_request_duration_seconds`,
      help: 'Time from receiving a GraphQL operation to sending its answer',
      labelNames: ['operation', 'outcome'],
      buckets: REQUEST_BUCKETS,
      registers: [this.registry],
    });
    this.scrapeErrors = new Counter({
      name: `${METRICS_PREFIX}metrics_scrape_errors_total`,
      help: 'Database reads of a scrape that failed or timed out (their series are missing from that scrape)',
      labelNames: ['source'],
      registers: [this.registry],
    });
  }

  /**
   * The label of an operation name: "anonymous" without one; a gateway fetch's generated name
   * (`Login__accounts__0`) counts as the client operation it serves (`Login`); names that are not
   * plain identifiers are "invalid", and names beyond the first MAX_OPERATION_NAMES are "other".
   */
  operationLabel(name: string | null | undefined): string {
    if (!name) return 'anonymous';
    const base = name.replace(/__[A-Za-z0-9_]+?__\d+$/, '');
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,99}$/.test(base)) return 'invalid';
    if (this.operationNames.has(base)) return base;
    if (this.operationNames.size >= MAX_OPERATION_NAMES) return 'other';
    this.operationNames.add(base);
    return base;
  }

  /** Apollo Server plugin: counts and times every operation. */
  plugin<TCtx extends BaseContext>(): ApolloServerPlugin<TCtx> {
    return {
      requestDidStart: async () => {
        const started = process.hrtime.bigint();
        return {
          willSendResponse: async ({ operationName, request, errors }) => {
            const labels = { operation: this.operationLabel(operationName ?? request.operationName), outcome: outcomeOf(errors) };
            this.requests.inc(labels);
            this.requestSeconds.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
          },
        };
      },
    };
  }

  /**
   * Times every database command of a connection from the driver's command events (the connection
   * must be opened with `monitorCommands`, platform/db.ts); a connection's client is watched once.
   */
  watchDatabase(conn: Connection): void {
    const client = conn.getClient();
    if (this.watchedClients.has(client)) return;
    this.watchedClients.add(client);
    const hist = (this.dbSeconds ??= new Histogram({
      name: `${METRICS_PREFIX}db_command_duration_seconds`,
      help: 'Database commands of this process (its own connections, not Agenda\'s), by command and outcome',
      labelNames: ['command', 'outcome'],
      buckets: DB_BUCKETS,
      registers: [this.registry],
    }));
    const command = (name: string) => (COMMANDS.has(name) ? name : 'other');
    client.on('commandSucceeded', (e: mongo.CommandSucceededEvent) => hist.observe({ command: command(e.commandName), outcome: 'ok' }, e.duration / 1000));
    client.on('commandFailed', (e: mongo.CommandFailedEvent) => hist.observe({ command: command(e.commandName), outcome: 'error' }, e.duration / 1000));
  }

  /** A gauge set from `read` at each scrape; a failed read leaves it empty and counts a scrape error. */
  private scraped<L extends string>(name: string, help: string, labelNames: L[], read: (set: (labels: Partial<Record<L, string>>, value: number) => void) => Promise<void>): void {
    const gauge: Gauge<L> = new Gauge<L>({
      name: METRICS_PREFIX + name,
      help,
      labelNames,
      registers: [this.registry],
      collect: async () => {
        gauge.reset();
        try {
          await read((labels, value) => gauge.set(labels, value));
        } catch {
          gauge.reset();
          this.scrapeErrors.inc({ source: name });
        }
      },
    });
  }

  /**
   * The Agenda workers of this service (platform/jobs.ts): jobs due and not locked per job name and
   * the age of the oldest (one aggregate and one find per scrape, on the jobs collection's index
   * `{name, priority, lockedAt, nextRunAt, disabled}`), jobs running in this process, and failed
   * runs (counted as they fail).
   */
  watchJobs(): void {
    const failed = new Counter({
      name: `${METRICS_PREFIX}jobs_failed_total`,
      help: 'Job runs that failed in this process, by job name',
      labelNames: ['job'],
      registers: [this.registry],
    });
    const counted = new WeakSet<object>();
    const agendas = () => {
      const list = runningAgendas(this.service);
      for (const agenda of list) {
        if (counted.has(agenda)) continue;
        counted.add(agenda);
        agenda.on('fail', (_err: Error, job: { attrs: { name: string } }) => failed.inc({ job: job.attrs.name }));
      }
      return list;
    };
    agendas();
    const dueFilter = (names: string[]) => ({ name: { $in: names }, lockedAt: null, disabled: { $ne: true }, nextRunAt: { $lte: new Date() } });
    const namesOf = (agenda: ReturnType<typeof runningAgendas>[number]) => Object.keys(agenda._definitions as Record<string, unknown>);
    this.scraped('jobs_due', 'Jobs of this service due and not locked by any worker, by job name', ['job'], async (set) => {
      for (const agenda of agendas().slice(0, 1)) {
        const names = namesOf(agenda);
        for (const name of names) set({ job: name }, 0);
        const jobs = agenda._collection as unknown as JobsCollection;
        const rows = await jobs.aggregate([{ $match: dueFilter(names) }, { $group: { _id: '$name', due: { $sum: 1 } } }], { maxTimeMS: SCRAPE_QUERY_MS }).toArray();
        for (const row of rows) set({ job: String(row._id) }, row.due);
      }
    });
    this.scraped('jobs_oldest_due_age_seconds', 'How long the longest-waiting due, unlocked job of this service has been due (0: none)', [], async (set) => {
      for (const agenda of agendas().slice(0, 1)) {
        const jobs = agenda._collection as unknown as JobsCollection;
        const [oldest] = await jobs.find(dueFilter(namesOf(agenda)), { sort: { nextRunAt: 1 }, limit: 1, projection: { nextRunAt: 1 }, maxTimeMS: SCRAPE_QUERY_MS }).toArray();
        set({}, oldest?.nextRunAt ? Math.max(0, (Date.now() - new Date(oldest.nextRunAt).getTime()) / 1000) : 0);
      }
    });
    this.scraped('jobs_running', 'Jobs running in this process now, by job name', ['job'], async (set) => {
      const running = new Map<string, number>();
      for (const agenda of agendas()) {
        for (const name of namesOf(agenda)) running.set(name, running.get(name) ?? 0);
        for (const job of agenda._runningJobs) running.set(job.attrs.name, (running.get(job.attrs.name) ?? 0) + 1);
      }
      for (const [job, n] of running) set({ job }, n);
    });
  }

  /**
   * Backlogs of the service's hand-offs: documents of each model with an outbox (platform/outbox.ts)
   * still flagged `outboxPending`, and the messages waiting in each queue it opened (platform/queue.ts).
   */
  watchBacklogs(conn: Connection): void {
    this.scraped('outbox_pending_documents', 'Documents whose outbox events are not all handed on yet, by model', ['model'], async (set) => {
      for (const model of Object.values(conn.models)) {
        if (!model.schema.path('outboxPending')) continue;
        set({ model: model.modelName }, await model.countDocuments({ outboxPending: true }).maxTimeMS(SCRAPE_QUERY_MS));
      }
    });
    this.scraped('queue_messages', 'Messages waiting in a hand-off queue this service fills or drains, by queue', ['queue'], async (set) => {
      for (const queue of Queue.openedOn(conn)) set({ queue: queue.name }, await queue.estimatedCount());
    });
  }

  /** Readers of the live-event stream (platform/pubsub.ts): whether each is tailing, and the lag of each event handed on. */
  watchLiveEvents(readers: () => Subscriber[]): void {
    const lag = (this.liveLag ??= new Histogram({
      name: `${METRICS_PREFIX}live_event_lag_seconds`,
      help: 'Time from publishing a live event to this process handing it on',
      buckets: LAG_BUCKETS,
      registers: [this.registry],
    }));
    const watch = () => {
      const list = readers();
      for (const reader of list) {
        if (this.lagWatched.has(reader)) continue;
        this.lagWatched.add(reader);
        reader.onLag((seconds) => lag.observe(seconds));
      }
      return list;
    };
    watch();
    this.scraped('live_events_tailing', '1 while every live-event reader of this process reads the stream successfully, else 0', [], async (set) => {
      const list = watch();
      if (list.length) set({}, list.every((r) => r.tailing) ? 1 : 0);
    });
  }

  /** Open WebSocket connections and active subscriptions (router). */
  watchWebSockets(read: () => { connections: number; subscriptions: number }): void {
    this.scraped('websocket_connections', 'Open graphql-ws connections accepted by this router', [], async (set) => set({}, read().connections));
    this.scraped('websocket_subscriptions', 'Active GraphQL subscriptions on this router', [], async (set) => set({}, read().subscriptions));
  }

  /** Times subgraph fetches of the router, by subgraph and outcome, and counts failed ones by error code. */
  subgraphFetches(): { observe(subgraph: string, seconds: number, outcome: string): void } {
    const seconds = new Histogram({
      name: `${METRICS_PREFIX}subgraph_fetch_duration_seconds`,
      help: 'Router fetches from a subgraph, by subgraph and outcome (ok, or the error code of a failed fetch or of the first error in its answer)',
      labelNames: ['subgraph', 'outcome'],
      buckets: REQUEST_BUCKETS,
      registers: [this.registry],
    });
    const errors = new Counter({
      name: `${METRICS_PREFIX}subgraph_fetch_errors_total`,
      help: 'Router fetches from a subgraph that failed or answered with errors, by subgraph and outcome',
      labelNames: ['subgraph', 'outcome'],
      registers: [this.registry],
    });
    return {
      observe: (subgraph, s, outcome) => {
        seconds.observe({ subgraph, outcome }, s);
        if (outcome !== 'ok') errors.inc({ subgraph, outcome });
      },
    };
  }

  /**
   * Counts a path's answers by HTTP status, including those refused before GraphQL runs (rate
   * limit 429, CORS and trusted-document 403, bad bodies 400), which the plugin never sees.
   */
  httpResponses(): RequestHandler {
    const answers = new Counter({
      name: `${METRICS_PREFIX}http_responses_total`,
      help: 'HTTP answers of the GraphQL endpoint by status, including requests refused before GraphQL ran',
      labelNames: ['status'],
      registers: [this.registry],
    });
    return (_req, res, next) => {
      res.once('finish', () => answers.inc({ status: String(res.statusCode) }));
      next();
    };
  }

  /** GET /metrics in the Prometheus text format. */
  handler(): RequestHandler {
    return (_req, res, next) => {
      Promise.all([processMetrics().metrics(), this.registry.metrics()]).then(([node, own]) => {
        res.setHeader('content-type', this.registry.contentType);
        res.end(node + own);
      }, next);
    };
  }
}
