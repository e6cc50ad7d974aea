import { createClient, type Client, type FormattedExecutionResult } from 'graphql-ws';
import WebSocket from 'ws';
import { dbName, type Config } from '../platform/config';
import { AUDIT_DB } from '../platform/audit';
import { JOBS_DB } from '../platform/jobs';
import { NOTIFY_APPOINTMENT_EVENTS } from '../platform/jobNames';
import { EVENTS_DB } from '../platform/pubsub';
import { QUEUES_DB } from '../platform/queue';
import { subgraphUrlEnv } from '../platform/services';
import { startSubgraph, type RunningSubgraph } from '../platform/subgraph';
import { ROUTER_DB } from '../router/idempotency';
import { accountsSubgraph } from '../subgraphs/accounts/index';
import type { AppointmentDoc } from '../subgraphs/appointments/model';
import { doctorsSubgraph } from '../subgraphs/doctors/index';
import type { NotificationDoc } from '../subgraphs/notifications/model';
import { dueHourOf, type ReminderDoc } from '../subgraphs/notifications/reminders';
import { patientsSubgraph } from '../subgraphs/patients/index';
import { dropTestDatabases, LOGIN, postGraphQL, silentLog, testConfig, waitFor, type GraphQLResponse } from './helpers';
import { deliveredIds, spawnRouter, spawnService, type ServiceProcess } from './serviceProcess';

/**
 * Several instances on one database, as a platform with load balancing runs them: two routers and
 * two processes each of appointments and notifications (router A → appointments 1, notifications 1;
 * router B → appointments 2, notifications 2; accounts, patients and doctors once, in this process).
 * Bookings through both routers never double-book, a subscriber on router B sees bookings made
 * through router A, and confirmations and reminders go out exactly once with both notification
 * workers running and after one of them is killed.
 */
const SLOTS = 4;
const PER_SLOT = 6;
const WEEK = ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'];
const WATCH = `subscription Watch($doctor: ObjectID!) { appointmentChanged(doctorId: $doctor) { id status start } }`;

let cfg: Config;
const inProcess: RunningSubgraph[] = [];
const processes: ServiceProcess[] = [];
const clients: Client[] = [];
let appointments: ServiceProcess[];
let workers: ServiceProcess[];
let routers: { A: string; B: string };
let admin: string;
let doctorId: string;
let slots: { start: string; end: string }[];
/** Every appointment stored in this file, in booking order. */
const booked: string[] = [];

const conn = () => inProcess[0].conn;
const collection = <T extends object>(service: string, name: string) => conn().useDb(dbName(cfg, service)).collection<T>(name);
const notifications = () => collection<NotificationDoc>('notifications', 'notifications');
const reminders = () => collection<ReminderDoc>('notifications', 'reminders');

const as = <T = Record<string, unknown>>(router: string, query: string, variables: Record<string, unknown> = {}): Promise<GraphQLResponse<T>> =>
  postGraphQL<T>(router, query, variables, { authorization: `Bearer ${admin}` });

async function newPatient(router: string, i: number): Promise<string> {
  const res = await as<{ registerPatient: { id: string } }>(router, `mutation P($i: RegisterPatientInput!) { registerPatient(input: $i) { id } }`, {
    i: { firstName: `Scale${i}`, lastName: 'Out', dateOfBirth: '1980-01-01', sex: 'FEMALE', phone: '+4915112345612', ...(i % 2 ? {} : { email: `scale${i}@mail.example` }) },
  });
  if (!res.data) throw new Error(JSON.stringify(res.errors));
  return res.data.registerPatient.id;
}

const book = (router: string, patientId: string, slot: { start: string; end: string }) =>
  as<{ bookAppointment: { id: string } }>(router, `mutation B($i: BookAppointmentInput!) { bookAppointment(input: $i) { id } }`, {
    i: { patientId, doctorId, start: slot.start, end: slot.end, reason: 'Check-up' },
  });

/** Polls a process until it logged its URL (or fails when it exited). */
const urlOf = (p: ServiceProcess) =>
  waitFor(async () => {
    if (p.proc.exitCode !== null) throw new Error(`${p.name} exited with ${p.proc.exitCode}`);
    return p.url;
  }, 90_000);

/** The notifications of these appointments, of one kind, once every one is SENT. */
async function allSent(kind: NotificationDoc['kind'], appointmentIds: string[]): Promise<NotificationDoc[]> {
  return waitFor(async () => {
    const found = await notifications().find({ kind, appointmentId: { $in: appointmentIds } }).toArray();
    return found.length === appointmentIds.length && found.every((n) => n.status === 'SENT') ? found : null;
  }, 120_000);
}

/** Each notification reached the (simulated) channel once, over every worker's log. */
function deliveryCounts(ids: string[]): Map<string, number> {
  const wanted = new Set(ids);
  const counts = new Map(ids.map((id) => [id, 0]));
  for (const w of workers) for (const id of deliveredIds(w)) if (wanted.has(id)) counts.set(id, counts.get(id)! + 1);
  return counts;
}

/** Reminders of these appointments planned (a day before each), then made due now. */
async function remindersDueNow(appointmentIds: string[]): Promise<void> {
  await waitFor(async () => (await reminders().countDocuments({ _id: { $in: appointmentIds } })) === appointmentIds.length, 60_000);
  const dueAt = new Date(Date.now() - 1000);
  await reminders().updateMany({ _id: { $in: appointmentIds } }, { $set: { dueAt, dueHour: dueHourOf(dueAt) } });
}

/** A graphql-ws subscriber on a router; resolves once its subscription listens. */
async function subscribe(router: string, variables: Record<string, unknown>): Promise<FormattedExecutionResult<{ appointmentChanged: { id: string } }, unknown>[]> {
  const client = createClient({ url: router.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${admin}` }, retryAttempts: 0 });
  clients.push(client);
  const events: FormattedExecutionResult<{ appointmentChanged: { id: string } }, unknown>[] = [];
  client.subscribe<{ appointmentChanged: { id: string } }>({ query: WATCH, variables }, { next: (r) => events.push(r), error: () => undefined, complete: () => undefined });
  // Operations on one socket are handled in order: the answer to a query sent after it means the subscription listens.
  let answered = false;
  client.subscribe({ query: '{ __typename }' }, { next: () => (answered = true), error: () => (answered = true), complete: () => (answered = true) });
  await waitFor(async () => answered, 30_000);
  return events;
}

beforeAll(async () => {
  cfg = testConfig();
  const env = (): Record<string, string> => ({
    MONGODB_URI: cfg.MONGODB_URI!,
    DB_PREFIX: cfg.DB_PREFIX,
    BCRYPT_ROUNDS: '4',
    JOBS_PROCESS_EVERY_MS: '200',
    OUTBOX_SWEEP_SECONDS: '1',
    REMINDER_POLL_SECONDS: '1',
    // A short lease (job locks, message claims): a killed worker's share is free again soon.
    JOB_LOCK_LIFETIME_MS: '5000',
    ...Object.fromEntries(inProcess.map((s) => [subgraphUrlEnv(s.name), s.url])),
  });
  inProcess.push(await startSubgraph(accountsSubgraph, { port: 0, config: cfg, logger: silentLog }));
  inProcess.push(await startSubgraph(patientsSubgraph, { port: 0, config: cfg, logger: silentLog }));
  inProcess.push(await startSubgraph(doctorsSubgraph, { port: 0, config: cfg, logger: silentLog }));

  appointments = [spawnService('appointments', env()), spawnService('appointments', env())];
  workers = [spawnService('notifications', env()), spawnService('notifications', env())];
  processes.push(...appointments, ...workers);
  const [a1, a2, n1, n2] = await Promise.all([...appointments, ...workers].map(urlOf));
  const A = spawnRouter({ ...env(), [subgraphUrlEnv('appointments')]: a1, [subgraphUrlEnv('notifications')]: n1 });
  const B = spawnRouter({ ...env(), [subgraphUrlEnv('appointments')]: a2, [subgraphUrlEnv('notifications')]: n2 });
  processes.push(A, B);
  routers = { A: await urlOf(A), B: await urlOf(B) };

  const login = await postGraphQL<{ login: { accessToken: string } }>(routers.A, LOGIN, { email: cfg.SUPERADMIN_EMAIL, password: cfg.SUPERADMIN_PASSWORD });
  if (!login.data) throw new Error(JSON.stringify(login.errors));
  admin = login.data.login.accessToken;
  const d = await as<{ createDoctor: { id: string } }>(routers.A, `mutation D($i: CreateDoctorInput!) { createDoctor(input: $i) { id } }`, {
    i: { firstName: 'Sid', lastName: 'Scale', specialty: 'Cardiology', timeZone: 'Europe/Berlin', weeklySchedule: WEEK.map((weekday) => ({ weekday, start: '00:00', end: '23:30', slotMinutes: 30 })) },
  });
  doctorId = d.data!.createDoctor.id;
  // More than a day ahead: each booking also plans a reminder.
  const s = await as<{ availableSlots: { start: string; end: string }[] }>(
    routers.B,
    `query S($d: ObjectID!, $f: DateTime!, $t: DateTime!) { availableSlots(doctorId: $d, from: $f, to: $t) { start end } }`,
    { d: doctorId, f: new Date(Date.now() + 50 * 3_600_000).toISOString(), t: new Date(Date.now() + 74 * 3_600_000).toISOString() },
  );
  slots = s.data!.availableSlots;
}, 240_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.dispose()));
  for (const p of processes) if (p.proc.exitCode === null && p.proc.signalCode === null) p.proc.kill('SIGTERM');
  await Promise.all(processes.map((p) => p.exited));
  await Promise.all(inProcess.map((s) => s.stop()));
  await dropTestDatabases(cfg, ['accounts', 'patients', 'doctors', 'appointments', 'notifications', EVENTS_DB, JOBS_DB, QUEUES_DB, AUDIT_DB, ROUTER_DB]);
}, 120_000);

describe('two routers, two appointments and two notifications processes on one database', () => {
  it('never double-books: concurrent bookings of the same slots through both routers store exactly one per slot', async () => {
    const patients: string[] = [];
    for (let i = 0; i < SLOTS * PER_SLOT; i++) patients.push(await newPatient(i % 2 ? routers.B : routers.A, i));
    const attempts = Array.from({ length: SLOTS * PER_SLOT }, (_v, i) => ({ slot: Math.floor(i / PER_SLOT), router: i % 2 ? routers.B : routers.A, patient: patients[i] }));
    const results = await Promise.all(attempts.map((a) => book(a.router, a.patient, slots[a.slot])));

    for (let slot = 0; slot < SLOTS; slot++) {
      const mine = results.filter((_r, i) => attempts[i].slot === slot);
      const won = mine.filter((r) => r.data?.bookAppointment);
      expect(won).toHaveLength(1);
      for (const lost of mine.filter((r) => !r.data?.bookAppointment)) expect(lost.errors?.[0]?.extensions?.code).toBe('CONFLICT');
      booked.push(won[0].data!.bookAppointment.id);
    }
    // Both routers' bookings took part in the race, and the winners came through both.
    const stored = await collection<AppointmentDoc>('appointments', 'appointments').find({ doctorId }).toArray();
    expect(stored).toHaveLength(SLOTS);
    expect(new Set(stored.map((a) => a.start.toISOString()))).toEqual(new Set(slots.slice(0, SLOTS).map((s) => new Date(s.start).toISOString())));
    expect(new Set(stored.map((a) => String(a._id)))).toEqual(new Set(booked));
  }, 180_000);

  it('delivers a booking made through router A to a subscriber on router B', async () => {
    const onB = await subscribe(routers.B, { doctor: doctorId });
    const patient = await newPatient(routers.A, 100);
    const res = await book(routers.A, patient, slots[SLOTS]);
    expect(res.errors).toBeUndefined();
    const id = res.data!.bookAppointment.id;
    booked.push(id);
    const event = await waitFor(async () => onB.find((e) => e.data?.appointmentChanged.id === id), 30_000);
    expect(event.errors).toBeUndefined();
    expect(event.data!.appointmentChanged).toMatchObject({ id, status: 'SCHEDULED' });
  }, 60_000);

  it('sends every confirmation and reminder exactly once with both notification workers running', async () => {
    const confirmations = await allSent('APPOINTMENT_CONFIRMED', booked);
    for (const n of confirmations) expect(n.deliveries).toBe(1);
    expect([...deliveryCounts(confirmations.map((n) => String(n._id))).values()]).toEqual(confirmations.map(() => 1));

    await remindersDueNow(booked);
    const sentReminders = await allSent('APPOINTMENT_REMINDER', booked);
    for (const n of sentReminders) expect(n.deliveries).toBe(1);
    expect([...deliveryCounts(sentReminders.map((n) => String(n._id))).values()]).toEqual(sentReminders.map(() => 1));
    await waitFor(async () => (await reminders().countDocuments({ _id: { $in: booked } })) === 0, 30_000);
  }, 240_000);

  it('sends them exactly once after one worker is killed, the other taking over its share', async () => {
    const [dead, alive] = workers;
    dead.proc.kill('SIGKILL');
    await dead.exited;
    const later: string[] = [];
    for (let i = 0; i < 4; i++) {
      const router = i % 2 ? routers.B : routers.A;
      const res = await book(router, await newPatient(router, 200 + i), slots[SLOTS + 1 + i]);
      expect(res.errors).toBeUndefined();
      later.push(res.data!.bookAppointment.id);
    }
    const confirmations = await allSent('APPOINTMENT_CONFIRMED', later);
    await remindersDueNow(later);
    const sentReminders = await allSent('APPOINTMENT_REMINDER', later);
    const ids = [...confirmations, ...sentReminders].map((n) => String(n._id));
    for (const n of [...confirmations, ...sentReminders]) expect(n.deliveries).toBe(1);
    expect([...deliveryCounts(ids).values()]).toEqual(ids.map(() => 1));
    // All by the survivor; none of these bookings' notices left waiting in the queue.
    expect(deliveredIds(alive).filter((id) => ids.includes(id)).sort()).toEqual([...ids].sort());
    await waitFor(async () => (await collection(QUEUES_DB, NOTIFY_APPOINTMENT_EVENTS).countDocuments({ appointmentId: { $in: later } })) === 0, 30_000);
  }, 240_000);
});
