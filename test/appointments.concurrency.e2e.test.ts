import { dbName } from '../platform/config';
import { idempotencyModel } from '../platform/idempotency';
import { OutboxRelay } from '../platform/outboxRelay';
import { EVENTS_DB, Publisher } from '../platform/pubsub';
import { ServiceClient } from '../platform/serviceClient';
import { createAppointmentModels, type AppointmentDoc } from '../subgraphs/appointments/model';
import { Directory } from '../subgraphs/appointments/directory';
import { AppointmentService } from '../subgraphs/appointments/service';
import { accountsSubgraph } from '../subgraphs/accounts/index';
import { appointmentsSubgraph } from '../subgraphs/appointments/index';
import { doctorsSubgraph } from '../subgraphs/doctors/index';
import { patientsSubgraph } from '../subgraphs/patients/index';
import { silentLog, startTestGraph, type GraphQLResponse, type TestGraph } from './helpers';

/** Concurrent changes of one appointment through the router: one at a time, none lost. */
let graph: TestGraph;
let admin: string;
const gql: TestGraph['gql'] = (q, v) => graph.as(admin, q, v);
const WEEK = ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'];

const appointmentsModel = () => graph.subgraphs.appointments!.conn.model<AppointmentDoc>('Appointment');
const code = (res: GraphQLResponse) => res.errors?.[0]?.extensions?.code;

/** Another instance of the appointments service on the same database, as a second process would run it. */
async function serviceInstance(directory = new Directory(new ServiceClient(graph.cfg, 'appointments'))): Promise<AppointmentService> {
  const conn = graph.subgraphs.appointments!.conn;
  const models = await createAppointmentModels(conn);
  const live = await Publisher.open(conn, dbName(graph.cfg, EVENTS_DB));
  return new AppointmentService(models, directory, silentLog, live, new OutboxRelay(models.Appointment, {}, silentLog));
}

/** The real directory, counting what it asks the doctors and patients services. */
class CountingDirectory extends Directory {
  readonly asked: string[] = [];
  override doctor(id: string, requestId: string) {
    this.asked.push(`doctor ${id}`);
    return super.doctor(id, requestId);
  }
  override assertPatientExists(id: string, requestId: string) {
    this.asked.push(`patient ${id}`);
    return super.assertPatientExists(id, requestId);
  }
}

async function newDoctor(name: string): Promise<string> {
  const res = await gql<{ createDoctor: { id: string } }>(`mutation D($i: CreateDoctorInput!) { createDoctor(input: $i) { id } }`, {
    i: { firstName: name, lastName: 'Test', specialty: 'Cardiology', timeZone: 'Europe/Berlin', weeklySchedule: WEEK.map((weekday) => ({ weekday, start: '08:00', end: '18:00', slotMinutes: 30 })) },
  });
  return res.data!.createDoctor.id;
}
async function newPatient(name: string): Promise<string> {
  const res = await gql<{ registerPatient: { id: string } }>(`mutation P($i: RegisterPatientInput!) { registerPatient(input: $i) { id } }`, {
    i: { firstName: name, lastName: 'Racer', dateOfBirth: '1980-01-01', sex: 'FEMALE' },
  });
  return res.data!.registerPatient.id;
}
async function slots(doctorId: string): Promise<{ start: string; end: string }[]> {
  const from = new Date(Date.now() + 86_400_000).toISOString();
  const to = new Date(Date.now() + 4 * 86_400_000).toISOString();
  const res = await gql<{ availableSlots: { start: string; end: string }[] }>(
    `query S($d: ObjectID!, $f: DateTime!, $t: DateTime!) { availableSlots(doctorId: $d, from: $f, to: $t) { start end } }`,
    { d: doctorId, f: from, t: to },
  );
  if (!res.data) throw new Error(JSON.stringify(res.errors));
  return res.data.availableSlots;
}
async function book(patientId: string, doctorId: string, slot: { start: string; end: string }): Promise<string> {
  const res = await gql<{ bookAppointment: { id: string } }>(`mutation B($i: BookAppointmentInput!) { bookAppointment(input: $i) { id } }`, {
    i: { patientId, doctorId, start: slot.start, end: slot.end, reason: 'Check-up' },
  });
  if (!res.data) throw new Error(JSON.stringify(res.errors));
  return res.data.bookAppointment.id;
}
const cancel = (id: string, reason: string) => gql<{ cancelAppointment: { status: string } }>(`mutation C($id: ObjectID!, $r: NonEmptyString!) { cancelAppointment(id: $id, reason: $r) { status } }`, { id, r: reason });
const reschedule = (id: string, slot: { start: string; end: string }) =>
  gql<{ rescheduleAppointment: { start: string } }>(`mutation R($id: ObjectID!, $s: DateTime!, $e: DateTime!) { rescheduleAppointment(id: $id, start: $s, end: $e) { start } }`, { id, s: slot.start, e: slot.end });

beforeAll(async () => {
  graph = await startTestGraph([accountsSubgraph, patientsSubgraph, doctorsSubgraph, appointmentsSubgraph]);
  admin = await graph.login(graph.cfg.SUPERADMIN_EMAIL, graph.cfg.SUPERADMIN_PASSWORD);
});
afterAll(() => graph.stop());

describe('concurrent changes of one appointment', () => {
  it('of 20 parallel cancels exactly one succeeds, the rest get CONFLICT, and one cancellation event is recorded', async () => {
    const doctorId = await newDoctor('Twenty');
    const [slot] = await slots(doctorId);
    const id = await book(await newPatient('Twenty'), doctorId, slot);

    const results = await Promise.all(Array.from({ length: 20 }, (_v, i) => cancel(id, `reason ${i}`)));
    expect(results.filter((r) => !r.errors && r.data?.cancelAppointment.status === 'CANCELLED')).toHaveLength(1);
    expect(results.filter((r) => code(r) === 'CONFLICT')).toHaveLength(19);
    expect(results.every((r) => r.status < 500)).toBe(true);

    const saved = (await appointmentsModel().findById(id).lean())!;
    expect(saved.status).toBe('CANCELLED');
    expect(saved.outbox.filter((e) => e.type === 'APPOINTMENT_CANCELLED')).toHaveLength(1);
    expect(saved.outboxSeq).toBe(saved.outbox.length);
  });

  it('reschedules and cancels racing on one appointment are applied one after another, none lost', async () => {
    const doctorId = await newDoctor('Mixed');
    const free = await slots(doctorId);
    const id = await book(await newPatient('Mixed'), doctorId, free[0]);

    const moves = free.slice(1, 6).map((s) => reschedule(id, s));
    const cancels = Array.from({ length: 5 }, (_v, i) => cancel(id, `mixed ${i}`));
    const [moved, cancelled] = [await Promise.all(moves), await Promise.all(cancels)];
    const ok = (r: GraphQLResponse) => !r.errors;
    expect([...moved, ...cancelled].every((r) => ok(r) || code(r) === 'CONFLICT')).toBe(true);
    expect(cancelled.filter(ok)).toHaveLength(1);

    // Every answered change left exactly its event, in one consistent document.
    const saved = (await appointmentsModel().findById(id).lean())!;
    const events = saved.outbox.map((e) => e.type);
    expect(saved.status).toBe('CANCELLED');
    expect(saved.slotKey).toBe(`released|${id}`);
    expect(events.filter((t) => t === 'APPOINTMENT_CANCELLED')).toHaveLength(1);
    expect(events.filter((t) => t === 'APPOINTMENT_RESCHEDULED')).toHaveLength(moved.filter(ok).length);
    expect(events.at(-1)).toBe('APPOINTMENT_CANCELLED');
    expect(saved.outboxSeq).toBe(saved.outbox.length);
  });

  it('straight at two service instances, without HTTP spreading them out: of 20 parallel cancels exactly one succeeds', async () => {
    const doctorId = await newDoctor('Direct');
    const [slot] = await slots(doctorId);
    const id = await book(await newPatient('Direct'), doctorId, slot);
    const instances = [await serviceInstance(), await serviceInstance()];

    const results = await Promise.allSettled(Array.from({ length: 20 }, (_v, i) => instances[i % 2].cancel(id, `direct ${i}`)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(refused.every((r) => (r.reason as { extensions?: { code?: string } }).extensions?.code === 'CONFLICT')).toBe(true);
    const saved = (await appointmentsModel().findById(id).lean())!;
    expect(saved.outbox.filter((e) => e.type === 'APPOINTMENT_CANCELLED')).toHaveLength(1);
    expect(saved.outboxSeq).toBe(saved.outbox.length);
  });

  it('answers bookings of a taken slot with CONFLICT at once: nothing reserved, no other service asked; the key that holds it gets it back', async () => {
    const doctorId = await newDoctor('Taken');
    const [slot] = await slots(doctorId);
    const directory = new CountingDirectory(new ServiceClient(graph.cfg, 'appointments'));
    const service = await serviceInstance(directory);
    const input = (patientId: string) => ({ patientId, doctorId, start: new Date(slot.start), end: new Date(slot.end), reason: 'Check-up' });
    const winner = await newPatient('Winner');
    const booked = await service.book(input(winner), 'test', 'user-1:bookAppointment:first');
    directory.asked.length = 0;

    const losers = await Promise.all(Array.from({ length: 5 }, (_v, i) => newPatient(`Loser${i}`)));
    const results = await Promise.allSettled(losers.flatMap((p, i) => [service.book(input(p), 'test', `user-1:bookAppointment:late-${i}`), service.book(input(p), 'test')]));
    expect(results.every((r) => r.status === 'rejected' && (r.reason as { extensions?: { code?: string } }).extensions?.code === 'CONFLICT')).toBe(true);
    expect(directory.asked).toEqual([]);
    expect(await idempotencyModel(graph.subgraphs.appointments!.conn).countDocuments({ key: /late-/ })).toBe(0);

    // A retry of the winning booking with its key is the booking, not CONFLICT.
    const again = await service.book(input(winner), 'test', 'user-1:bookAppointment:first');
    expect(String(again._id)).toBe(String(booked._id));
    expect(await appointmentsModel().countDocuments({ slotKey: booked.slotKey })).toBe(1);
  });
});
