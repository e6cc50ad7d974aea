import { randomBytes } from 'node:crypto';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { subgraphUrlEnv } from '../platform/services';
import { accountsSubgraph } from '../subgraphs/accounts/index';
import { analyticsSubgraph } from '../subgraphs/analytics/index';
import { appointmentsSubgraph } from '../subgraphs/appointments/index';
import { medicationsSubgraph } from '../subgraphs/medications/index';
import { notificationsSubgraph } from '../subgraphs/notifications/index';
import { patientsSubgraph } from '../subgraphs/patients/index';
import { startTestGraph, waitFor, type TestGraph } from './helpers';
import { spawnService, type ServiceProcess } from './serviceProcess';

/**
 * /metrics and /ready of the router and the subgraphs (platform/metrics.ts, platform/readiness.ts),
 * on the whole graph: six subgraphs in this process, doctors in a process of its own, so that it
 * can be stopped and started again.
 */
const DB_PREFIX = `test_${randomBytes(4).toString('hex')}`;
let graph: TestGraph;
let doctors: ServiceProcess;
let doctorsPort: string;

/** Doctors in a process of its own, on `port` ('0': a free one). */
function startDoctors(port: string): ServiceProcess {
  return spawnService('doctors', { MONGODB_URI: process.env.MONGODB_URI!, DB_PREFIX, PORT: port });
}

beforeAll(async () => {
  doctors = startDoctors('0');
  const url = await waitFor(async () => doctors.url, 30_000);
  doctorsPort = new URL(url).port;
  // The router finds doctors here (router/server.ts urlFor).
  process.env[subgraphUrlEnv('doctors')] = url;
  graph = await startTestGraph([accountsSubgraph, patientsSubgraph, appointmentsSubgraph, medicationsSubgraph, notificationsSubgraph, analyticsSubgraph], { DB_PREFIX });
}, 90_000);
afterAll(async () => {
  delete process.env[subgraphUrlEnv('doctors')];
  doctors.proc.kill('SIGTERM');
  await doctors.exited;
  await graph.stop();
});

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition. */
async function scrape(base: string): Promise<Sample[]> {
  const res = await fetch(new URL('/metrics', base));
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  const samples: Sample[] = [];
  for (const line of (await res.text()).split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return samples;
}

const value = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
const names = (samples: Sample[]) => new Set(samples.map((s) => s.name));

async function ready(base: string): Promise<{ status: number; body: { status: string; reasons?: Record<string, string> } }> {
  const res = await fetch(new URL('/ready', base));
  return { status: res.status, body: (await res.json()) as { status: string; reasons?: Record<string, string> } };
}

describe('/metrics', () => {
  it('counts and times a request on the router and on the subgraph that served it', async () => {
    const router = graph.router.url;
    const accounts = graph.subgraphs.accounts!.url;
    const before = { router: await scrape(router), accounts: await scrape(accounts) };
    const labels = { operation: 'MetricsProbe', outcome: 'ok' };
    const count = (s: Sample[]) => value(s, 'healthsync_graphql_requests_total', labels) ?? 0;

    const token = await graph.login(graph.cfg.SUPERADMIN_EMAIL, graph.cfg.SUPERADMIN_PASSWORD);
    const res = await graph.as(token, 'query MetricsProbe { me { id } }');
    expect(res.errors).toBeUndefined();

    const after = { router: await scrape(router), accounts: await scrape(accounts) };
    expect(count(after.router) - count(before.router)).toBe(1);
    expect(value(after.router, 'healthsync_graphql_request_duration_seconds_count', labels)! - (value(before.router, 'healthsync_graphql_request_duration_seconds_count', labels) ?? 0)).toBe(1);
    // The gateway's fetch (`MetricsProbe__accounts__0`) counts under the client operation's name.
    expect(count(after.accounts) - count(before.accounts)).toBe(1);
    expect(after.router.find((s) => s.name === 'healthsync_graphql_requests_total')!.labels.service).toBe('router');
    // The router's fetch from accounts was timed.
    const fetched = (s: Sample[]) => value(s, 'healthsync_subgraph_fetch_duration_seconds_count', { subgraph: 'accounts', outcome: 'ok' }) ?? 0;
    expect(fetched(after.router) - fetched(before.router)).toBeGreaterThanOrEqual(1);
    // A failed sign-in is counted under its error code; a request without a name as "anonymous".
    await graph.gql('mutation { login(email: "nobody@mail.example", password: "wrong-password-123") { accessToken } }');
    const later = await scrape(router);
    expect(value(later, 'healthsync_graphql_requests_total', { operation: 'anonymous', outcome: 'UNAUTHENTICATED' })).toBeGreaterThanOrEqual(1);
    // A body that is not JSON never reaches GraphQL; its 400 is still counted by status.
    const status400 = (s: Sample[]) => value(s, 'healthsync_http_responses_total', { status: '400' }) ?? 0;
    const bad = await fetch(router, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{not json' });
    expect(bad.status).toBe(400);
    expect(status400(await scrape(router)) - status400(later)).toBe(1);

    expect([...names(after.router)]).toEqual(
      expect.arrayContaining([
        'healthsync_db_command_duration_seconds_count',
        'healthsync_live_events_tailing',
        'healthsync_live_event_lag_seconds_count',
        'healthsync_websocket_connections',
        'healthsync_websocket_subscriptions',
        'process_cpu_seconds_total',
        'nodejs_eventloop_lag_seconds',
      ]),
    );
    expect(value(after.router, 'healthsync_live_events_tailing')).toBe(1);
    expect(value(after.router, 'healthsync_websocket_connections')).toBe(0);
  });

  it('counts the router\'s open WebSocket connections and their subscriptions', async () => {
    const token = await graph.login(graph.cfg.SUPERADMIN_EMAIL, graph.cfg.SUPERADMIN_PASSWORD);
    const client = createClient({ url: graph.router.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, retryAttempts: 0 });
    const gauges = async () => {
      const s = await scrape(graph.router.url);
      return [value(s, 'healthsync_websocket_connections'), value(s, 'healthsync_websocket_subscriptions')];
    };
    try {
      const stop = client.subscribe({ query: 'subscription { notificationAdded { id } }' }, { next: () => undefined, error: () => undefined, complete: () => undefined });
      await waitFor(async () => (await gauges()).join() === '1,1');
      stop();
      await waitFor(async () => (await gauges()).join() === '1,0');
    } finally {
      await client.dispose();
    }
    await waitFor(async () => (await gauges()).join() === '0,0');
  });

  it('reports the jobs, backlogs, database commands and live events of a subgraph', async () => {
    // A read of appointments' own collection first: its `find` is then counted whatever the
    // background pollers have done so far (under load they may not have read anything yet).
    const token = await graph.login(graph.cfg.SUPERADMIN_EMAIL, graph.cfg.SUPERADMIN_PASSWORD);
    expect((await graph.as(token, '{ appointments(first: 1) { edges { node { id } } } }')).errors).toBeUndefined();
    const appointments = await scrape(graph.subgraphs.appointments!.url);
    expect(value(appointments, 'healthsync_db_command_duration_seconds_count', { command: 'find', outcome: 'ok' })).toBeGreaterThan(0);
    expect(value(appointments, 'healthsync_outbox_pending_documents', { model: 'Appointment' })).toBeGreaterThanOrEqual(0);
    expect(value(appointments, 'healthsync_queue_messages', { queue: 'analytics_appointment_changes' })).toBeGreaterThanOrEqual(0);
    expect(value(appointments, 'healthsync_live_events_tailing')).toBe(1);
    expect(value(appointments, 'healthsync_jobs_oldest_due_age_seconds')).toBeGreaterThanOrEqual(0);
    const notifications = await scrape(graph.subgraphs.notifications!.url);
    const jobNames = notifications.filter((s) => s.name === 'healthsync_jobs_due').map((s) => s.labels.job);
    expect(jobNames).toEqual(expect.arrayContaining(['notifications.appointment-event']));
    expect(value(notifications, 'healthsync_jobs_running', { job: 'notifications.appointment-event' })).toBeGreaterThanOrEqual(0);
    expect(value(notifications, 'healthsync_metrics_scrape_errors_total')).toBeUndefined();
  });
});

describe('/ready', () => {
  it('is ready on every subgraph and the router, and /health stays a liveness probe', async () => {
    for (const sub of Object.values(graph.subgraphs)) expect(await ready(sub.url)).toEqual({ status: 200, body: { status: 'ready', service: sub.name } });
    expect(await ready(graph.router.url)).toEqual({ status: 200, body: { status: 'ready', service: 'router' } });
    expect((await fetch(new URL('/health', graph.router.url))).status).toBe(200);
  });

  it('is not ready while a subgraph is down, and ready again once it is back', async () => {
    doctors.proc.kill('SIGTERM');
    await doctors.exited;
    const down = await waitFor(async () => {
      const r = await ready(graph.router.url);
      return r.status === 503 ? r : null;
    });
    expect(down.body.status).toBe('not ready');
    expect(down.body.reasons?.subgraphs).toContain(`:${doctorsPort}/ready`);
    expect(Object.keys(down.body.reasons ?? {})).toEqual(['subgraphs']);
    // Still alive.
    expect((await fetch(new URL('/health', graph.router.url))).status).toBe(200);

    doctors = startDoctors(doctorsPort);
    await waitFor(async () => (await ready(graph.router.url)).status === 200, 30_000);
  }, 60_000);
});
