import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildClientSchema, buildSchema, getIntrospectionQuery, lexicographicSortSchema, printSchema, type IntrospectionQuery } from 'graphql';
import { createClient, type Client, type FormattedExecutionResult } from 'graphql-ws';
import WebSocket from 'ws';
import { startRouter, type RunningRouter } from '../router/server';
import { CORS_ALLOWED_HEADERS } from '../router/cors';
import { sha256Hex, type PersistedQueryManifest } from '../router/trustedDocuments';
import { API_SCHEMA_FILE } from '../scripts/compose';
import { WEB_OPERATIONS_FILE } from '../scripts/webOperations';
import { accountsSubgraph } from '../subgraphs/accounts/index';
import { analyticsSubgraph } from '../subgraphs/analytics/index';
import { appointmentsSubgraph } from '../subgraphs/appointments/index';
import { doctorsSubgraph } from '../subgraphs/doctors/index';
import { notificationsSubgraph } from '../subgraphs/notifications/index';
import { patientsSubgraph } from '../subgraphs/patients/index';
import { postBody, postGraphQL, silentLog, startTestGraph, waitFor, type GraphQLResponse, type TestGraph } from './helpers';

/**
 * What client developers rely on, through real routers, subgraphs and database: CORS, the API
 * schema file, automatic persisted queries, trusted documents (HTTP and graphql-ws), @defer refused
 * clearly, and the README's subscription example run as a Node.js program.
 */
const APP = 'https://app.example.org';
const DEV_APP = 'http://localhost:5173';
const ROOT = path.join(__dirname, '..');

let graph: TestGraph;
/** A second router on the same subgraphs, running only the web app's operations. */
let trusted: RunningRouter;
let admin: string;
let doctorId: string;
let patientId: string;
const clients: Client[] = [];
const children: ChildProcess[] = [];

const WEEK = ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'];
const manifest = JSON.parse(readFileSync(WEB_OPERATIONS_FILE, 'utf8')) as PersistedQueryManifest;
const webOp = (name: string): string => {
  const op = manifest.operations.find((o) => o.name === name);
  if (!op) throw new Error(`no web operation ${name}`);
  return op.body;
};

beforeAll(async () => {
  graph = await startTestGraph([accountsSubgraph, patientsSubgraph, doctorsSubgraph, appointmentsSubgraph, notificationsSubgraph, analyticsSubgraph], {
    CORS_ORIGINS: `${APP},${DEV_APP}`,
  });
  const subgraphUrls = Object.fromEntries(Object.values(graph.subgraphs).map((s) => [s.name, s.url]));
  trusted = await startRouter({ port: 0, config: { ...graph.cfg, CORS_ORIGINS: [], TRUSTED_DOCUMENTS: [path.relative(process.cwd(), WEB_OPERATIONS_FILE)] }, logger: silentLog, subgraphUrls });
  admin = await graph.login(graph.cfg.SUPERADMIN_EMAIL, graph.cfg.SUPERADMIN_PASSWORD);
  const d = await graph.as<{ createDoctor: { id: string } }>(admin, `mutation D($i: CreateDoctorInput!) { createDoctor(input: $i) { id } }`, {
    i: { firstName: 'Cora', lastName: 'Client', specialty: 'Cardiology', timeZone: 'Europe/Berlin', weeklySchedule: WEEK.map((weekday) => ({ weekday, start: '08:00', end: '18:00', slotMinutes: 30 })) },
  });
  doctorId = d.data!.createDoctor.id;
  const p = await graph.as<{ registerPatient: { id: string } }>(admin, `mutation P($i: RegisterPatientInput!) { registerPatient(input: $i) { id } }`, {
    i: { firstName: 'Otto', lastName: 'Origin', dateOfBirth: '1970-07-07', sex: 'MALE' },
  });
  patientId = p.data!.registerPatient.id;
}, 60_000);
afterAll(async () => {
  for (const child of children) child.kill();
  await Promise.all(clients.map((c) => c.dispose()));
  await trusted?.stop();
  await graph?.stop();
});

let slotsTaken = 0;
/** The next free slot of the doctor (each call a different one). */
async function nextSlot(): Promise<{ start: string; end: string }> {
  const res = await graph.as<{ availableSlots: { start: string; end: string }[] }>(
    admin,
    `query S($d: ObjectID!, $f: DateTime!, $t: DateTime!) { availableSlots(doctorId: $d, from: $f, to: $t) { start end } }`,
    { d: doctorId, f: new Date(Date.now() + 86_400_000).toISOString(), t: new Date(Date.now() + 3 * 86_400_000).toISOString() },
  );
  const slot = res.data!.availableSlots[slotsTaken++];
  if (!slot) throw new Error('no free slot left');
  return slot;
}
const bookingInput = (slot: { start: string; end: string }) => ({ patientId, doctorId, start: slot.start, end: slot.end, reason: 'Check-up' });

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const reasons = (res: GraphQLResponse): unknown[] => (res.errors ?? []).map((e) => e.extensions?.reason);

function preflight(url: string, origin: string, headers = 'authorization, content-type, idempotency-key, apollo-require-preflight, x-request-id'): Promise<Response> {
  return fetch(url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': headers } });
}

describe('CORS (CORS_ORIGINS)', () => {
  it('answers a preflight from an allowed origin with 204 and what the app may send', async () => {
    for (const origin of [APP, DEV_APP]) {
      const res = await preflight(graph.router.url, origin);
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBe(origin);
      expect(res.headers.get('access-control-allow-methods')).toContain('POST');
      const allowed = res.headers.get('access-control-allow-headers')!.split(/,\s*/);
      expect(allowed).toEqual(expect.arrayContaining(['authorization', 'content-type', 'idempotency-key', 'apollo-require-preflight', 'x-request-id']));
      expect(res.headers.get('vary')).toMatch(/origin/i);
      expect(res.headers.get('access-control-allow-credentials')).toBeNull();
      expect(Number(res.headers.get('access-control-max-age'))).toBeGreaterThan(0);
    }
  });

  it('lets an allowed origin read the answer of its POST, with the request id', async () => {
    const res = await fetch(graph.router.url, {
      method: 'POST',
      headers: { origin: APP, 'content-type': 'application/json', ...bearer(admin) },
      body: JSON.stringify({ query: '{ specialties }' }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(APP);
    expect(res.headers.get('access-control-expose-headers')).toContain('x-request-id');
    expect(res.headers.get('vary')).toMatch(/origin/i);
    expect(((await res.json()) as GraphQLResponse).errors).toBeUndefined();
  });

  it('gives any other origin no CORS header, and its preflight a clear 403', async () => {
    for (const origin of ['https://evil.example.net', 'https://app.example.org.evil.net', 'http://app.example.org', 'null']) {
      const pre = await preflight(graph.router.url, origin);
      expect(pre.status).toBe(403);
      expect(pre.headers.get('access-control-allow-origin')).toBeNull();
      expect(pre.headers.get('access-control-allow-headers')).toBeNull();
      const body = (await pre.json()) as GraphQLResponse;
      expect(body.errors?.[0]?.extensions).toEqual({ code: 'FORBIDDEN', reason: 'CORS_ORIGIN_NOT_ALLOWED' });
      const post = await fetch(graph.router.url, { method: 'POST', headers: { origin, 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __typename }' }) });
      expect(post.headers.get('access-control-allow-origin')).toBeNull();
    }
  });

  it('allows no origin by default', async () => {
    const pre = await preflight(trusted.url, APP);
    expect(pre.status).toBe(403);
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
    expect(pre.headers.get('vary')).toBeNull();
    // Not a preflight (no Access-Control-Request-Method): just the allowed methods.
    const plain = await fetch(trusted.url, { method: 'OPTIONS' });
    expect(plain.status).toBe(204);
    expect(plain.headers.get('allow')).toBe('GET, POST, OPTIONS');
  });

  it('keeps CSRF prevention: a request a browser sends without a preflight runs nothing', async () => {
    const url = `${graph.router.url}?query=${encodeURIComponent('{ __typename }')}`;
    const simpleGet = await fetch(url, { headers: { origin: 'https://evil.example.net' } });
    expect(simpleGet.status).toBe(400);
    expect(await simpleGet.text()).toMatch(/CSRF|preflight/i);
    const textPost = await fetch(graph.router.url, { method: 'POST', headers: { origin: 'https://evil.example.net', 'content-type': 'text/plain' }, body: JSON.stringify({ query: '{ __typename }' }) });
    expect(textPost.status).toBe(400);
    expect(await textPost.text()).not.toContain('"data"');
    // A header only a preflight lets through makes the same GET acceptable.
    const withHeader = await fetch(url, { headers: { 'apollo-require-preflight': 'true' } });
    expect(withHeader.status).toBe(200);
    expect(CORS_ALLOWED_HEADERS).toContain('apollo-require-preflight');
  });
});

describe('schema/api.graphql', () => {
  it('is the schema the router serves (introspection outside production)', async () => {
    const res = await postGraphQL<IntrospectionQuery>(graph.router.url, getIntrospectionQuery(), {}, bearer(admin));
    expect(res.errors).toBeUndefined();
    const served = printSchema(lexicographicSortSchema(buildClientSchema(res.data!)));
    const file = printSchema(lexicographicSortSchema(buildSchema(readFileSync(API_SCHEMA_FILE, 'utf8'))));
    expect(served).toBe(file);
  });
});

describe('automatic persisted queries', () => {
  it('answers an unknown hash PERSISTED_QUERY_NOT_FOUND, stores the query sent with it, then runs the hash alone', async () => {
    const query = `query Specialties { specialties } # ${Date.now()}`;
    const extensions = { persistedQuery: { version: 1, sha256Hash: sha256Hex(query) } };
    const hashOnly = JSON.stringify({ extensions, operationName: 'Specialties' });
    const first = await postBody(graph.router.url, hashOnly, bearer(admin));
    expect(first.errors?.[0]).toMatchObject({ message: 'PersistedQueryNotFound', extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } });
    expect(first.data).toBeUndefined();
    const registered = await postBody<{ specialties: string[] }>(graph.router.url, JSON.stringify({ query, extensions }), bearer(admin));
    expect(registered.errors).toBeUndefined();
    expect(Array.isArray(registered.data!.specialties)).toBe(true);
    const again = await postBody<{ specialties: string[] }>(graph.router.url, hashOnly, bearer(admin));
    expect(again).toEqual(registered);
    // GET works too (a CDN can cache it): the hash in the query string.
    const get = await fetch(`${graph.router.url}?extensions=${encodeURIComponent(JSON.stringify(extensions))}`, { headers: { ...bearer(admin), 'apollo-require-preflight': 'true' } });
    expect(await get.json()).toEqual({ data: registered.data });
  });

  it('refuses a query that does not match its hash', async () => {
    const res = await postBody(graph.router.url, JSON.stringify({ query: '{ specialties }', extensions: { persistedQuery: { version: 1, sha256Hash: sha256Hex('{ doctors { edges { node { id } } } }') } } }), bearer(admin));
    expect(res.status).toBe(400);
    expect(res.data).toBeUndefined();
  });
});

describe('@defer', () => {
  it('is refused with HTTP 400 INCREMENTAL_DELIVERY_NOT_SUPPORTED, before anything runs', async () => {
    const query = `query Slow($id: ObjectID!) { patient(id: $id) { id name ... @defer(label: "visits") { visitSummary { totalVisits } } } }`;
    const res = await graph.as(admin, query, { id: patientId });
    expect(res.status).toBe(400);
    expect(res.data).toBeUndefined();
    expect(res.errors).toEqual([
      { message: expect.stringMatching(/@defer and @stream are not supported/), extensions: { code: 'BAD_USER_INPUT', reason: 'INCREMENTAL_DELIVERY_NOT_SUPPORTED' } },
    ]);
    const fragment = await graph.as(admin, `{ doctors(first: 1) { edges { node { ...D @defer } } } } fragment D on Doctor { name }`);
    expect(reasons(fragment)).toEqual(['INCREMENTAL_DELIVERY_NOT_SUPPORTED']);
    // Without the directive the same selection runs.
    const plain = await graph.as(admin, query.replace('... @defer(label: "visits") { visitSummary { totalVisits } }', 'visitSummary { totalVisits }'), { id: patientId });
    expect(plain.errors).toBeUndefined();
  });
});

describe('trusted documents (TRUSTED_DOCUMENTS)', () => {
  const trustedAs = <T = Record<string, unknown>>(query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = bearer(admin)) =>
    postGraphQL<T>(trusted.url, query, variables, headers);

  it("accepts every operation of the web app's manifest and runs them as usual", async () => {
    // Each one is let through (whatever its variables: a missing one fails validation, not trust).
    for (const op of manifest.operations) {
      const res = await trustedAs(op.body, {});
      expect([op.name, res.status, reasons(res)]).not.toEqual([op.name, 403, ['OPERATION_NOT_TRUSTED']]);
    }
    const login = await trustedAs<{ login: { accessToken: string } }>(webOp('Login'), { email: graph.cfg.SUPERADMIN_EMAIL, password: graph.cfg.SUPERADMIN_PASSWORD }, {});
    expect(login.errors).toBeUndefined();
    const unread = await trustedAs<{ notifications: { edges: unknown[] } }>(webOp('UnreadNotifications'), {}, { authorization: `Bearer ${login.data!.login.accessToken}` });
    expect(unread.errors).toBeUndefined();
    const refresh = await trustedAs(webOp('RefreshSession'), { refreshToken: 'not-a-refresh-token' });
    expect(refresh.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  }, 60_000);

  it('runs a manifest operation sent as its hash alone, with nothing registered first', async () => {
    const body = webOp('Notifications');
    const res = await postBody<{ notifications: { edges: unknown[] } }>(trusted.url, JSON.stringify({ extensions: { persistedQuery: { version: 1, sha256Hash: sha256Hex(body) } } }), bearer(admin));
    expect(res.errors).toBeUndefined();
    expect(Array.isArray(res.data!.notifications.edges)).toBe(true);
  });

  it('refuses any other document with 403 FORBIDDEN / OPERATION_NOT_TRUSTED, also by hash, GET or a changed space', async () => {
    const refusal = { message: expect.stringMatching(/only trusted operations/), extensions: { code: 'FORBIDDEN', reason: 'OPERATION_NOT_TRUSTED' } };
    const adHoc = await trustedAs('{ patients(first: 100) { edges { node { id name medicalHistory { condition } } } } }');
    expect(adHoc).toEqual({ status: 403, errors: [refusal] });
    expect((await trustedAs(`${webOp('Notifications')} `)).status).toBe(403);
    expect((await trustedAs('{ __schema { types { name } } }')).status).toBe(403);
    const hashOnly = await postBody(trusted.url, JSON.stringify({ extensions: { persistedQuery: { version: 1, sha256Hash: sha256Hex('{ specialties }') } } }), bearer(admin));
    expect(hashOnly).toEqual({ status: 403, errors: [refusal] });
    const registering = await postBody(trusted.url, JSON.stringify({ query: '{ specialties }', extensions: { persistedQuery: { version: 1, sha256Hash: sha256Hex('{ specialties }') } } }), bearer(admin));
    expect(registering.status).toBe(403);
    const get = await fetch(`${trusted.url}?query=${encodeURIComponent('{ specialties }')}`, { headers: { ...bearer(admin), 'apollo-require-preflight': 'true' } });
    expect(get.status).toBe(403);
    // Anonymous callers are refused the same way, before anything else.
    expect((await trustedAs('{ specialties }', {}, {})).status).toBe(403);
    // The first router, without TRUSTED_DOCUMENTS, runs the ad-hoc query.
    expect((await graph.as(admin, '{ specialties }')).errors).toBeUndefined();
  });

  it("holds graphql-ws to the same rule: the app's live notifications arrive, an ad-hoc subscription is refused", async () => {
    const client = createClient({ url: trusted.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: bearer(admin), retryAttempts: 0 });
    clients.push(client);
    const live: FormattedExecutionResult<Record<string, unknown>, unknown>[] = [];
    let liveError: unknown;
    client.subscribe({ query: webOp('NotificationAdded') }, { next: (r) => void live.push(r), error: (e) => (liveError = e), complete: () => undefined });
    let adHocError: unknown;
    client.subscribe({ query: 'subscription { notificationAdded { id message } }' }, { next: () => undefined, error: (e) => (adHocError = e), complete: () => undefined });
    // Operations on one socket are handled in order: the second's answer means the first listens.
    const refused = await waitFor(async () => adHocError);
    expect(refused).toEqual([{ message: expect.stringMatching(/only trusted operations/), extensions: { code: 'FORBIDDEN', reason: 'OPERATION_NOT_TRUSTED' } }]);
    const booked = await postGraphQL<{ bookAppointment: { id: string } }>(trusted.url, webOp('BookAppointment'), { input: bookingInput(await nextSlot()) }, bearer(admin));
    expect(booked.errors).toBeUndefined();
    await waitFor(async () => live.some((r) => /confirm/i.test(JSON.stringify(r.data))), 15_000);
    expect(liveError).toBeUndefined();
  }, 30_000);
});

describe("README's subscription example (examples/subscribe.mjs)", () => {
  it('runs as written on this Node.js and prints a booking of the watched doctor', async () => {
    const lines: string[] = [];
    let connected = false;
    const child = spawn(process.execPath, [path.join(ROOT, 'examples', 'subscribe.mjs')], {
      cwd: ROOT,
      env: { ...process.env, ACCESS_TOKEN: admin, DOCTOR_ID: doctorId, GRAPHQL_WS_URL: graph.router.url.replace(/^http/, 'ws') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => lines.push(...chunk.split('\n').filter(Boolean)));
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      if (stderr.includes('connected')) connected = true;
    });
    await waitFor(async () => connected || child.exitCode !== null, 15_000);
    expect([child.exitCode, stderr.trim()]).toEqual([null, 'connected']);
    // Its subscription may reach the router just after "connected": book until one is printed.
    const ids: string[] = [];
    const printed = await waitFor(async () => {
      if (!lines.length) {
        const res = await graph.as<{ bookAppointment: { id: string } }>(admin, webOp('BookAppointment'), { input: bookingInput(await nextSlot()) });
        ids.push(res.data!.bookAppointment.id);
        await waitFor(async () => lines.length > 0, 2000).catch(() => undefined);
      }
      return lines[0];
    }, 20_000);
    const event = JSON.parse(printed) as { data: { appointmentChanged: { id: string; status: string; patient: { name: string } } } };
    expect(ids).toContain(event.data.appointmentChanged.id);
    expect(event.data.appointmentChanged).toMatchObject({ status: 'SCHEDULED', patient: { name: 'Otto Origin' } });
    child.kill();
  }, 40_000);
});
