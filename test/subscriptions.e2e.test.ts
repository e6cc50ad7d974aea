import { createClient, type Client, type FormattedExecutionResult } from 'graphql-ws';
import WebSocket from 'ws';
import { AUDIT_DB, auditEntriesOf, type AuditRecordDoc } from '../platform/audit';
import { signAccessToken } from '../platform/jwt';
import { dbName } from '../platform/config';
import { DOORBELLS } from '../platform/doorbell';
import { EVENTS_DB } from '../platform/pubsub';
import { startRouter, type RunningRouter } from '../router/server';
import { accountsSubgraph } from '../subgraphs/accounts/index';
import { appointmentsSubgraph } from '../subgraphs/appointments/index';
import { doctorsSubgraph } from '../subgraphs/doctors/index';
import { notificationsSubgraph } from '../subgraphs/notifications/index';
import { patientsSubgraph } from '../subgraphs/patients/index';
import { TOO_MANY_CONNECTIONS_CLOSE } from '../router/subscriptions';
import { dropTestDatabases, openDb, silentLog, startTestGraph, waitFor, type TestGraph } from './helpers';
import { recordingProxy, type RecordingProxy } from './recordingProxy';

/** Live subscriptions over graphql-ws through real routers, subgraphs and database. */
let graph: TestGraph;
let second: RunningRouter;
/** A third router whose calls to appointments pass a recording proxy: its live reads are counted. */
let counted: RunningRouter;
let appointmentsProxy: RecordingProxy;
let admin: string;
const clients: Client[] = [];

type Changed = { appointmentChanged: { id: string; status: string; start: string; doctor: { name: string; specialty: string }; patient: { id?: string; name: string } } };

beforeAll(async () => {
  graph = await startTestGraph([accountsSubgraph, patientsSubgraph, doctorsSubgraph, appointmentsSubgraph, notificationsSubgraph]);
  const subgraphUrls = Object.fromEntries(Object.values(graph.subgraphs).map((s) => [s.name, s.url]));
  second = await startRouter({ port: 0, config: graph.cfg, logger: silentLog, subgraphUrls });
  appointmentsProxy = await recordingProxy(graph.subgraphs.appointments!.url);
  counted = await startRouter({ port: 0, config: graph.cfg, logger: silentLog, subgraphUrls: { ...subgraphUrls, appointments: appointmentsProxy.url } });
  admin = await graph.login(graph.cfg.SUPERADMIN_EMAIL, graph.cfg.SUPERADMIN_PASSWORD);
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.dispose()));
  await second.stop();
  await counted.stop();
  await appointmentsProxy.close();
  await graph.stop();
  await dropTestDatabases(graph.cfg, [EVENTS_DB]);
});

// ---- fixtures through HTTP ---------------------------------------------------------------------
const WEEK = ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'];
async function newDoctor(name: string): Promise<string> {
  const res = await graph.as<{ createDoctor: { id: string } }>(admin, `mutation D($i: CreateDoctorInput!) { createDoctor(input: $i) { id } }`, {
    i: { firstName: name, lastName: 'Live', specialty: 'Cardiology', timeZone: 'Europe/Berlin', weeklySchedule: WEEK.map((weekday) => ({ weekday, start: '08:00', end: '18:00', slotMinutes: 30 })) },
  });
  return res.data!.createDoctor.id;
}
async function newPatient(name: string): Promise<string> {
  const res = await graph.as<{ registerPatient: { id: string } }>(admin, `mutation P($i: RegisterPatientInput!) { registerPatient(input: $i) { id } }`, {
    i: { firstName: name, lastName: 'Watcher', dateOfBirth: '1980-01-01', sex: 'FEMALE' },
  });
  return res.data!.registerPatient.id;
}
async function slots(doctorId: string): Promise<{ start: string; end: string }[]> {
  const res = await graph.as<{ availableSlots: { start: string; end: string }[] }>(
    admin,
    `query S($d: ObjectID!, $f: DateTime!, $t: DateTime!) { availableSlots(doctorId: $d, from: $f, to: $t) { start end } }`,
    { d: doctorId, f: new Date(Date.now() + 86_400_000).toISOString(), t: new Date(Date.now() + 3 * 86_400_000).toISOString() },
  );
  return res.data!.availableSlots;
}
async function book(patientId: string, doctorId: string, slot: { start: string; end: string }, token = admin): Promise<string> {
  const res = await graph.as<{ bookAppointment: { id: string } }>(token, `mutation B($i: BookAppointmentInput!) { bookAppointment(input: $i) { id } }`, {
    i: { patientId, doctorId, start: slot.start, end: slot.end, reason: 'Check-up' },
  });
  if (!res.data) throw new Error(JSON.stringify(res.errors));
  return res.data.bookAppointment.id;
}

// ---- graphql-ws clients --------------------------------------------------------------------------
function connect(router: RunningRouter, connectionParams?: Record<string, unknown>): Client {
  const client = createClient({ url: router.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams, retryAttempts: 0 });
  clients.push(client);
  return client;
}
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

interface Listener<T> {
  results: FormattedExecutionResult<T, unknown>[];
  /** What the sink's error got: GraphQL errors, or the socket's close event. */
  error: unknown;
  waitFor(count: number, ms?: number): Promise<FormattedExecutionResult<T, unknown>[]>;
  waitForError(ms?: number): Promise<unknown>;
}
function listen<T>(client: Client, query: string, variables?: Record<string, unknown>): Listener<T> {
  const l: Listener<T> = {
    results: [],
    error: undefined,
    waitFor: async (count, ms = 2500) => {
      for (const end = Date.now() + ms; l.results.length < count && Date.now() < end; ) await sleep(10);
      return l.results;
    },
    waitForError: async (ms = 2500) => {
      for (const end = Date.now() + ms; l.error === undefined && Date.now() < end; ) await sleep(10);
      return l.error;
    },
  };
  client.subscribe<T>({ query, variables }, { next: (r) => l.results.push(r), error: (e) => (l.error = e), complete: () => undefined });
  return l;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Resolves once the server has handled every operation sent before on this socket: operations are
 * handled in arrival order, so the answer to a (refused) query over the socket means the earlier
 * subscriptions already listen.
 */
async function settled(client: Client): Promise<unknown> {
  const error = await listen(client, '{ __typename }').waitForError();
  expect(error).toEqual([expect.objectContaining({ message: expect.stringMatching(/Only subscriptions/) })]);
  return error;
}

const WATCH = `subscription Watch($doctor: ObjectID!) { appointmentChanged(doctorId: $doctor) { ...Visit } }
  fragment Visit on Appointment { id status start doctor { name specialty } patient { name } }`;

describe('appointmentChanged', () => {
  it('delivers a booking, read across subgraphs, to a staff subscriber within 2 s', async () => {
    const [doctorId, otherDoctor] = [await newDoctor('Ada'), await newDoctor('Elsewhere')];
    const patientId = await newPatient('Bea');
    const [[slot], [otherSlot]] = [await slots(doctorId), await slots(otherDoctor)];
    const client = connect(graph.router, bearer(admin));
    const watch = listen<Changed>(client, WATCH, { doctor: doctorId });
    await settled(client);

    await book(await newPatient('Elsa'), otherDoctor, otherSlot); // another doctor's channel
    const before = Date.now();
    const id = await book(patientId, doctorId, slot);
    await watch.waitFor(1);
    const elapsed = Date.now() - before;

    expect(watch.error).toBeUndefined();
    expect(watch.results).toEqual([
      { data: { appointmentChanged: { id, status: 'SCHEDULED', start: slot.start, doctor: { name: 'Dr. Ada Live', specialty: 'Cardiology' }, patient: { name: 'Bea Watcher' } } } },
    ]);
    expect(elapsed).toBeLessThan(2000);
  });

  it('reaches the subscribers of every router instance', async () => {
    const doctorId = await newDoctor('Multi');
    const [slot] = await slots(doctorId);
    const a = connect(graph.router, bearer(admin));
    const b = connect(second, bearer(admin));
    const onA = listen<Changed>(a, `subscription { appointmentChanged(doctorId: "${doctorId}") { id doctor { name } } }`);
    const onB = listen<Changed>(b, `subscription { changed: appointmentChanged(doctorId: "${doctorId}") { id } }`);
    await Promise.all([settled(a), settled(b)]);

    const id = await book(await newPatient('Two'), doctorId, slot);
    expect(await onA.waitFor(1)).toEqual([{ data: { appointmentChanged: { id, doctor: { name: 'Dr. Multi Live' } } } }]);
    expect(await onB.waitFor(1)).toEqual([{ data: { changed: { id } } }]);
  });

  it('registers a doorbell for the services to ring while a router has subscriptions, and removes it after the last ends', async () => {
    const conn = await openDb(graph.cfg, 'doorbells');
    const bells = conn.useDb(dbName(graph.cfg, EVENTS_DB), { useCache: true }).db!.collection(DOORBELLS);
    const router = await startRouter({ port: 0, config: graph.cfg, logger: silentLog, subgraphUrls: Object.fromEntries(Object.values(graph.subgraphs).map((s) => [s.name, s.url])) });
    try {
      const before = new Set((await bells.find({}).toArray()).map((d) => String(d._id)));
      const client = createClient({ url: router.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: bearer(admin), retryAttempts: 0 });
      const doctorId = await newDoctor('Bell');
      const watch = listen<Changed>(client, `subscription { appointmentChanged(doctorId: "${doctorId}") { id } }`);
      await settled(client);
      const added = await waitFor(async () => (await bells.find({}).toArray()).filter((d) => !before.has(String(d._id))));
      expect(added).toEqual([expect.objectContaining({ host: graph.cfg.LIVE_DOORBELL_HOST, port: expect.any(Number) })]);
      const [slot] = await slots(doctorId);
      const id = await book(await newPatient('Rung'), doctorId, slot);
      expect(await watch.waitFor(1)).toEqual([{ data: { appointmentChanged: { id } } }]);
      await client.dispose();
      await waitFor(async () => (await bells.countDocuments({ _id: added[0]!._id })) === 0 || null);
    } finally {
      await router.stop();
      await conn.close();
    }
  });

  it("shows a patient their own booking and nothing of another patient's on the same doctor", async () => {
    const doctorId = await newDoctor('Private');
    const [own, other] = [await newPatient('Own'), await newPatient('Other')];
    await graph.as(admin, `mutation { createUser(input: { email: "live.patient@mail.example", password: "patient-password-1", role: PATIENT, patientId: "${own}" }) { id } }`);
    const patientToken = await graph.login('live.patient@mail.example', 'patient-password-1');
    const [s1, s2] = await slots(doctorId);
    const client = connect(graph.router, bearer(patientToken));
    const watch = listen<Changed>(client, `subscription { appointmentChanged(doctorId: "${doctorId}") { id patient { id name } } }`);
    await settled(client);

    await book(other, doctorId, s1); // first: events are read in order, so it was judged before the next one
    const mine = await book(own, doctorId, s2, patientToken);
    await watch.waitFor(1);
    await sleep(200); // nothing else may trickle in
    expect(watch.results).toEqual([{ data: { appointmentChanged: { id: mine, patient: { id: own, name: 'Own Watcher' } } } }]);
    expect(watch.error).toBeUndefined();
  });
});

describe('notificationAdded', () => {
  it('pushes the booking confirmation to the patient, with the doctor read from another subgraph, within 2 s', async () => {
    const doctorId = await newDoctor('Notify');
    const patientId = await newPatient('Nina');
    await graph.as(admin, `mutation { createUser(input: { email: "nina@live.example", password: "nina-password-123", role: PATIENT, patientId: "${patientId}" }) { id } }`);
    const nina = await graph.login('nina@live.example', 'nina-password-123');
    const other = await newPatient('Otto');
    const client = connect(graph.router, bearer(nina));
    type Added = { notificationAdded: { kind: string; message: string; appointment: { start: string; doctor: { name: string; specialty: string } } } };
    const l = listen<Added>(client, `subscription { notificationAdded { kind message appointment { start doctor { name specialty } } } }`);
    await settled(client);
    const [s1, s2] = await slots(doctorId);
    await book(other, doctorId, s1); // someone else's confirmation: not for Nina
    const started = Date.now();
    await book(patientId, doctorId, s2);
    const [first] = await l.waitFor(1, 2000);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(first.data!.notificationAdded).toMatchObject({
      kind: 'APPOINTMENT_CONFIRMED',
      appointment: { start: s2.start, doctor: { name: 'Dr. Notify Live', specialty: 'Cardiology' } },
    });
    expect(first.data!.notificationAdded.message).toContain('Hello Nina');
    await sleep(500);
    expect(l.results).toHaveLength(1);
  });
});

describe('fan-out: one read per event for each live query and access scope', () => {
  const token = async (identity: Parameters<typeof signAccessToken>[0]) => (await signAccessToken(identity, graph.cfg.JWT_SECRET, 900)).token;
  const userId = (n: number) => n.toString(16).padStart(24, 'f');
  /** Reads of one appointment by the counted router's live queries (one subgraph call each). */
  const liveReads = (appointmentId: string) =>
    appointmentsProxy.calls.filter((c) => c.body.includes('appointment(id:') && c.body.includes(appointmentId)).length;
  type Seen = { appointmentChanged: { id: string; patient: { id: string; name: string } } };
  const SEE = (doctorId: string) => `subscription { appointmentChanged(doctorId: "${doctorId}") { id patient { id name } } }`;
  const ids = (l: Listener<Seen>) => l.results.map((r) => r.data?.appointmentChanged.id);

  it('reads each event once for many subscribers of one selection and scope, and gives it to each of them exactly once', async () => {
    const doctorId = await newDoctor('Crowd');
    const [s1, s2, s3] = await slots(doctorId);
    // 8 nurses (distinct users), two connections each, one with two subscriptions: 24 subscriptions, one scope.
    const nurses = await Promise.all(Array.from({ length: 8 }, (_v, i) => token({ userId: userId(0x100 + i), role: 'NURSE' })));
    const sockets = nurses.flatMap((t) => [connect(counted, bearer(t)), connect(counted, bearer(t))]);
    const watches = sockets.flatMap((c, i) => (i % 2 === 0 ? [listen<Seen>(c, SEE(doctorId)), listen<Seen>(c, SEE(doctorId))] : [listen<Seen>(c, SEE(doctorId))]));
    await Promise.all(sockets.map((c) => settled(c)));
    expect(watches).toHaveLength(24);

    const patient = await newPatient('Crowded');
    const booked = [await book(patient, doctorId, s1), await book(patient, doctorId, s2), await book(patient, doctorId, s3)];
    await waitFor(async () => watches.every((w) => w.results.length >= 3));
    for (const w of watches) {
      expect(w.error).toBeUndefined();
      // Each event once, in order, with what a nurse may see.
      expect(w.results).toEqual(booked.map((id) => ({ data: { appointmentChanged: { id, patient: { id: patient, name: 'Crowded Watcher' } } } })));
    }
    expect(booked.map(liveReads)).toEqual([1, 1, 1]);

    // The PHI audit names every recipient: the subgraphs audited the one read under its reader,
    // the router one entry per other subscription, pointing at that read.
    const audit = await openDb(graph.cfg, AUDIT_DB);
    try {
      // Handed to the audit trail as the answers go out: stored by its next insert.
      const routerEntries = async () =>
        (await audit.db!.collection<AuditRecordDoc>('phi_audit').find({ service: 'router', entityId: { $in: booked } }).toArray()).flatMap(auditEntriesOf);
      await waitFor(async () => (await routerEntries()).length >= 3 * 23);
      const entries = await routerEntries();
      expect(entries).toHaveLength(3 * 23);
      expect(new Set(entries.map((e) => e.userId))).toEqual(new Set(Array.from({ length: 8 }, (_v, i) => userId(0x100 + i))));
      expect(entries[0]).toMatchObject({ role: 'NURSE', entityType: 'Appointment', operation: 'READ', outcome: 'ALLOWED', fields: ['id', 'patient'] });
    } finally {
      await audit.close();
    }
    await Promise.all(sockets.map((c) => c.dispose()));
  });

  it('gives subscribers of different scopes exactly what their rules allow, each read with its own scope', async () => {
    const doctorId = await newDoctor('Scopes');
    const [otherDoctor, p1, p2] = [await newDoctor('Unrelated'), await newPatient('First'), await newPatient('Second')];
    const [s1, s2, s3, s4] = await slots(doctorId);
    const people = {
      patient1: await token({ userId: userId(0x201), role: 'PATIENT', patientId: p1 }),
      patient1Again: await token({ userId: userId(0x201), role: 'PATIENT', patientId: p1 }),
      patient2: await token({ userId: userId(0x202), role: 'PATIENT', patientId: p2 }),
      nurse: await token({ userId: userId(0x203), role: 'NURSE' }),
      admin: await token({ userId: userId(0x204), role: 'ADMIN' }),
      doctor: await token({ userId: userId(0x205), role: 'DOCTOR', doctorId }),
      otherDoctor: await token({ userId: userId(0x206), role: 'DOCTOR', doctorId: otherDoctor }),
      pharmacist: await token({ userId: userId(0x207), role: 'PHARMACIST' }),
    };
    const sockets = Object.fromEntries(Object.entries(people).map(([who, t]) => [who, connect(counted, bearer(t))])) as Record<keyof typeof people, Client>;
    const watch = Object.fromEntries(Object.entries(sockets).map(([who, c]) => [who, listen<Seen>(c, SEE(doctorId))])) as Record<keyof typeof people, Listener<Seen>>;
    await Promise.all(Object.values(sockets).map((c) => settled(c)));

    const a1 = await book(p1, doctorId, s1);
    const a2 = await book(p2, doctorId, s2);
    const a3 = await book(p1, doctorId, s3);
    const a4 = await book(p2, doctorId, s4);
    await waitFor(async () => watch.nurse.results.length >= 4 && watch.admin.results.length >= 4 && watch.doctor.results.length >= 4);
    await waitFor(async () => ids(watch.patient1).length >= 2 && ids(watch.patient1Again).length >= 2 && ids(watch.patient2).length >= 2);
    // Every read done: staff, the doctor and the pharmacist (refused by appointments) for each
    // event, and the patient it belongs to; never the other patient or the other doctor.
    await waitFor(async () => [a1, a2, a3, a4].every((id) => liveReads(id) >= 5));

    expect(ids(watch.nurse)).toEqual([a1, a2, a3, a4]);
    expect(ids(watch.admin)).toEqual([a1, a2, a3, a4]);
    expect(ids(watch.doctor)).toEqual([a1, a2, a3, a4]);
    expect(ids(watch.patient1)).toEqual([a1, a3]);
    expect(ids(watch.patient1Again)).toEqual([a1, a3]);
    expect(ids(watch.patient2)).toEqual([a2, a4]);
    expect(watch.patient2.results[0]).toEqual({ data: { appointmentChanged: { id: a2, patient: { id: p2, name: 'Second Watcher' } } } });
    expect(watch.pharmacist.results).toEqual([]);
    expect(watch.otherDoctor.results).toEqual([]);
    expect(Object.values(watch).filter((w) => w.error !== undefined)).toEqual([]);
    expect([a1, a2, a3, a4].map(liveReads)).toEqual([5, 5, 5, 5]);
    await Promise.all(Object.values(sockets).map((c) => c.dispose()));
  });

  it("keeps a user-scoped selection to its user: each patient gets their own confirmation only, on each subscription", async () => {
    const doctorId = await newDoctor('Confirms');
    const [p1, p2] = [await newPatient('Cleo'), await newPatient('Dora')];
    const [t1, t2] = [await token({ userId: userId(0x301), role: 'PATIENT', patientId: p1 }), await token({ userId: userId(0x302), role: 'PATIENT', patientId: p2 })];
    type Added = { notificationAdded: { kind: string; message: string } };
    const NOTE = 'subscription { notificationAdded { kind message } }';
    const [c1, c2] = [connect(counted, bearer(t1)), connect(counted, bearer(t2))];
    const [n1, n1b, n2] = [listen<Added>(c1, NOTE), listen<Added>(c1, NOTE), listen<Added>(c2, NOTE)];
    await Promise.all([settled(c1), settled(c2)]);
    const [s1, s2] = await slots(doctorId);
    await book(p1, doctorId, s1);
    await book(p2, doctorId, s2);
    await waitFor(async () => n1.results.length >= 1 && n1b.results.length >= 1 && n2.results.length >= 1);
    for (const [l, name] of [[n1, 'Cleo'], [n1b, 'Cleo'], [n2, 'Dora']] as const) {
      expect(l.results).toHaveLength(1);
      expect(l.results[0].data!.notificationAdded).toMatchObject({ kind: 'APPOINTMENT_CONFIRMED', message: expect.stringContaining(`Hello ${name}`) });
    }
    await Promise.all([c1.dispose(), c2.dispose()]);
  });
});

describe('refusals', () => {
  it('refuses a connection without a token or with a forged one (4403)', async () => {
    const forged = await signAccessToken({ userId: '000000000000000000000001', role: 'SUPER_ADMIN' }, 'not-the-router-secret-0123456789abcdef', 900);
    for (const params of [undefined, {}, bearer(forged.token), { authorization: forged.token }]) {
      const refused = listen(connect(graph.router, params), `subscription { appointmentChanged(doctorId: "${'a'.repeat(24)}") { id } }`);
      expect(await refused.waitForError()).toMatchObject({ code: 4403 });
    }
  });

  it('closes the connection when its access token expires', async () => {
    const shortLived = await signAccessToken({ userId: '000000000000000000000002', role: 'NURSE' }, graph.cfg.JWT_SECRET, 2);
    const client = connect(graph.router, bearer(shortLived.token));
    const watch = listen(client, `subscription { appointmentChanged(doctorId: "${'b'.repeat(24)}") { id } }`);
    await settled(client); // accepted while the token is valid
    expect(await watch.waitForError(3500)).toMatchObject({ code: 4403, reason: expect.stringMatching(/expired/) });
  });

  it("closes a user's connection beyond WS_MAX_CONNECTIONS_PER_USER with 4429 while another user still connects", async () => {
    const max = graph.cfg.WS_MAX_CONNECTIONS_PER_USER;
    expect(max).toBe(10); // the default
    const [one, other] = await Promise.all(
      ['0000000000000000000000c1', '0000000000000000000000c2'].map((userId) => signAccessToken({ userId, role: 'NURSE' }, graph.cfg.JWT_SECRET, 900)),
    );
    const WATCH_ONE = `subscription { appointmentChanged(doctorId: "${'c'.repeat(24)}") { id } }`;
    const open = Array.from({ length: max }, () => connect(graph.router, bearer(one.token)));
    // Each holds a subscription (a client closes an idle connection) and is acknowledged and serving.
    const watches = open.map((c) => listen(c, WATCH_ONE));
    await Promise.all(open.map((c) => settled(c)));

    const refused = listen(connect(graph.router, bearer(one.token)), WATCH_ONE);
    expect(await refused.waitForError()).toMatchObject({ code: TOO_MANY_CONNECTIONS_CLOSE, reason: 'Too many connections' });
    expect(watches.filter((w) => w.error !== undefined)).toEqual([]);
    const otherUser = connect(graph.router, bearer(other.token)); // someone else is not affected
    const otherWatch = listen(otherUser, WATCH_ONE);
    await settled(otherUser);
    const elsewhere = connect(second, bearer(one.token)); // each router instance counts its own
    const elsewhereWatch = listen(elsewhere, WATCH_ONE);
    await settled(elsewhere);
    expect([otherWatch.error, elsewhereWatch.error]).toEqual([undefined, undefined]);

    // A closed connection frees its place.
    await open[0].dispose();
    await waitFor(async () => {
      const answer = await listen(connect(graph.router, bearer(one.token)), '{ __typename }').waitForError();
      return JSON.stringify(answer).includes('Only subscriptions');
    });
    await Promise.all([...open, otherUser, elsewhere].map((c) => c.dispose()));
  });

  it('refuses a subscription beyond WS_MAX_SUBSCRIPTIONS_PER_CONNECTION and keeps the connection', async () => {
    const max = graph.cfg.WS_MAX_SUBSCRIPTIONS_PER_CONNECTION;
    expect(max).toBe(25); // the default
    const client = connect(graph.router, bearer(admin));
    const watches = Array.from({ length: max }, (_v, i) => listen(client, `subscription { appointmentChanged(doctorId: "${String(i).padStart(24, 'd')}") { id } }`));
    const extra = listen(client, `subscription { appointmentChanged(doctorId: "${'e'.repeat(24)}") { id } }`);
    expect(await extra.waitForError()).toEqual([expect.objectContaining({ extensions: { code: 'RATE_LIMITED' } })]);
    expect(watches.filter((w) => w.error !== undefined)).toEqual([]);
    await client.dispose();
  });

  it('answers invalid documents with an error message and keeps the connection', async () => {
    const client = connect(graph.router, bearer(admin));
    const errorOf = (query: string, variables?: Record<string, unknown>) => listen(client, query, variables).waitForError();
    expect(await errorOf('subscription {')).toEqual([expect.objectContaining({ extensions: { code: 'GRAPHQL_PARSE_FAILED' } })]);
    expect(await errorOf('subscription { nothingHere { id } }')).toEqual([expect.objectContaining({ message: expect.stringMatching(/nothingHere/) })]);
    expect(await errorOf('subscription { appointmentChanged(doctorId: "x") { id } }')).toEqual([expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT' } })]);
    expect(await errorOf('subscription S($d: ObjectID!) { appointmentChanged(doctorId: $d) { id } }')).toEqual([expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT' } })]);
    expect(await errorOf('mutation { markNoShow(id: "000000000000000000000001") { id } }')).toEqual([expect.objectContaining({ message: expect.stringMatching(/Only subscriptions/) })]);
    const deep = 'subscription { appointmentChanged(doctorId: "000000000000000000000001") { patient { appointments { edges { node { patient { appointments { edges { node { patient { appointments { edges { node { id } } } } } } } } } } } } } }';
    expect(await errorOf(deep)).toEqual([expect.objectContaining({ message: expect.stringMatching(/depth/i) })]);

    const doctorId = await newDoctor('Still');
    const [slot] = await slots(doctorId);
    const watch = listen<Changed>(client, WATCH, { doctor: doctorId });
    await settled(client);
    const id = await book(await newPatient('After'), doctorId, slot);
    expect((await watch.waitFor(1))[0]?.data?.appointmentChanged.id).toBe(id);
  });
});

describe('shutdown', () => {
  it('closes the sockets of a stopped router while the other one keeps delivering', async () => {
    const doctorId = await newDoctor('Stay');
    const [slot] = await slots(doctorId);
    const survivor = connect(graph.router, bearer(admin));
    const leaving = connect(second, bearer(admin));
    const onSurvivor = listen<Changed>(survivor, WATCH, { doctor: doctorId });
    const onLeaving = listen<Changed>(leaving, WATCH, { doctor: doctorId });
    await Promise.all([settled(survivor), settled(leaving)]);

    const stopStarted = Date.now();
    await second.stop();
    expect(Date.now() - stopStarted).toBeLessThan(3000);
    expect(await onLeaving.waitForError()).toMatchObject({ code: 1001 });

    const id = await book(await newPatient('Left'), doctorId, slot);
    expect((await onSurvivor.waitFor(1))[0]?.data?.appointmentChanged.id).toBe(id);
    expect(onLeaving.results).toEqual([]);
  });
});
