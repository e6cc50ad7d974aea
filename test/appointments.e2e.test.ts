import { dbName } from '../platform/config';
import { NOTIFY_APPOINTMENT_EVENTS, type AppointmentNotice } from '../platform/jobNames';
import { QUEUES_DB } from '../platform/queue';
import type { AppointmentDoc } from '../subgraphs/appointments/model';
import { accountsSubgraph } from '../subgraphs/accounts/index';
import { appointmentsSubgraph } from '../subgraphs/appointments/index';
import { doctorsSubgraph } from '../subgraphs/doctors/index';
import { patientsSubgraph } from '../subgraphs/patients/index';
import { ServiceClient } from '../platform/serviceClient';
import type { CareRelationDoc } from '../subgraphs/patients/model';
import { Directory } from '../subgraphs/appointments/directory';
import { setAppointmentFields } from './appointmentFixtures';
import { startTestGraph, type GraphQLResponse, type TestGraph } from './helpers';

/** Booking, rescheduling, cancelling and completing through the router, on the real database. */
let graph: TestGraph;
let admin: string;
const gql: TestGraph['gql'] = (q, v) => graph.as(admin, q, v);
const WEEK = ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'];

const appointmentsModel = () => graph.subgraphs.appointments!.conn.model<AppointmentDoc>('Appointment');

async function newDoctor(name: string, slotMinutes = 30, tz = 'Europe/Berlin'): Promise<string> {
  const res = await gql<{ createDoctor: { id: string } }>(`mutation D($i: CreateDoctorInput!) { createDoctor(input: $i) { id } }`, {
    i: { firstName: name, lastName: 'Test', specialty: 'Cardiology', timeZone: tz, weeklySchedule: WEEK.map((weekday) => ({ weekday, start: '08:00', end: '18:00', slotMinutes })) },
  });
  return res.data!.createDoctor.id;
}
async function newPatient(name: string): Promise<string> {
  const res = await gql<{ registerPatient: { id: string } }>(`mutation P($i: RegisterPatientInput!) { registerPatient(input: $i) { id } }`, {
    i: { firstName: name, lastName: 'Booker', dateOfBirth: '1980-01-01', sex: 'FEMALE' },
  });
  return res.data!.registerPatient.id;
}
/**
 * Free slots from the start of the UTC day after tomorrow (the doctor's day starts at 08:00 there,
 * whatever the time of the run: a window starting "now + 24 h" would begin mid-morning on some
 * runs and leave out the early slots a test moves the schedule past).
 */
async function slots(doctorId: string, days = 3): Promise<{ start: string; end: string }[]> {
  const dayAfterTomorrow = new Date();
  dayAfterTomorrow.setUTCHours(0, 0, 0, 0);
  dayAfterTomorrow.setUTCDate(dayAfterTomorrow.getUTCDate() + 2);
  const from = dayAfterTomorrow.toISOString();
  const to = new Date(dayAfterTomorrow.getTime() + days * 86_400_000).toISOString();
  const res = await gql<{ availableSlots: { start: string; end: string }[] }>(
    `query S($d: ObjectID!, $f: DateTime!, $t: DateTime!) { availableSlots(doctorId: $d, from: $f, to: $t) { start end } }`,
    { d: doctorId, f: from, t: to },
  );
  if (!res.data) throw new Error(JSON.stringify(res.errors));
  return res.data.availableSlots;
}
const BOOK = `mutation B($i: BookAppointmentInput!) { bookAppointment(input: $i) { id status localDate specialty patient { id name } doctor { id name } } }`;
function book(patientId: string, doctorId: string, slot: { start: string; end: string }, token = admin): Promise<GraphQLResponse<{ bookAppointment: { id: string; status: string; patient: { name: string }; doctor: { name: string } } }>> {
  return graph.as(token, BOOK, { i: { patientId, doctorId, start: slot.start, end: slot.end, reason: 'Check-up' } });
}
const code = (res: GraphQLResponse) => res.errors?.[0]?.extensions?.code;

beforeAll(async () => {
  graph = await startTestGraph([accountsSubgraph, patientsSubgraph, doctorsSubgraph, appointmentsSubgraph]);
  admin = await graph.login(graph.cfg.SUPERADMIN_EMAIL, graph.cfg.SUPERADMIN_PASSWORD);
});
afterAll(() => graph.stop());

describe('booking', () => {
  it('books a free slot, resolves patient and doctor through federation, hands the event on durably and removes the slot', async () => {
    const doctorId = await newDoctor('Ada');
    const patientId = await newPatient('Bea');
    const [slot] = await slots(doctorId);
    const res = await book(patientId, doctorId, slot);
    expect(res.errors).toBeUndefined();
    expect(res.data!.bookAppointment).toMatchObject({ status: 'SCHEDULED', specialty: 'Cardiology', patient: { id: patientId, name: 'Bea Booker' }, doctor: { name: 'Dr. Ada Test' } });
    expect((await slots(doctorId)).map((s) => s.start)).not.toContain(slot.start);
    const saved = await appointmentsModel().findById(res.data!.bookAppointment.id).lean();
    expect(saved!.outbox.map((e) => e.type)).toEqual(['APPOINTMENT_BOOKED', 'CARE_RELATION']);
    // Handed on before the answer: the confirmation waits in notifications' queue (notifications is not running here).
    expect(saved).toMatchObject({ outboxSeq: 2, outboxHandled: 2, outboxPending: false });
    const notices = graph.subgraphs.appointments!.conn.useDb(dbName(graph.cfg, QUEUES_DB)).collection<AppointmentNotice>(NOTIFY_APPOINTMENT_EVENTS);
    expect(await notices.countDocuments({ appointmentId: res.data!.bookAppointment.id })).toBe(1);
    // One message per event (`_id` = the event's: handed on again, it is stored once), naming the
    // doctor as the booking saw them: notifications need not ask the doctors service.
    const booked = saved!.outbox[0];
    expect(await notices.findOne({ _id: String(booked._id) })).toMatchObject({ type: 'APPOINTMENT_BOOKED', doctorName: expect.stringContaining('Test'), specialty: 'Cardiology' });
  });

  it('lets exactly one of 50 parallel bookings of one slot succeed', async () => {
    const doctorId = await newDoctor('Busy');
    const patients = await Promise.all(Array.from({ length: 50 }, (_v, i) => newPatient(`P${i}`)));
    const [slot] = await slots(doctorId);
    const results = await Promise.all(patients.map((p) => book(p, doctorId, slot)));
    expect(results.filter((r) => !r.errors)).toHaveLength(1);
    expect(results.filter((r) => code(r) === 'CONFLICT')).toHaveLength(49);
    expect(results.every((r) => r.status < 500)).toBe(true);
    expect(await appointmentsModel().countDocuments({ doctorId, start: new Date(slot.start), status: 'SCHEDULED' })).toBe(1);
  });

  it('never gives one patient two overlapping appointments, also in parallel', async () => {
    const doctors = await Promise.all(Array.from({ length: 8 }, (_v, i) => newDoctor(`Par${i}`)));
    const patientId = await newPatient('Overlap');
    const [slot] = await slots(doctors[0]);
    const results = await Promise.all(doctors.map((d) => book(patientId, d, slot)));
    expect(results.filter((r) => !r.errors)).toHaveLength(1);
    expect(results.filter((r) => code(r) === 'CONFLICT')).toHaveLength(7);
    expect(await appointmentsModel().countDocuments({ patientId, status: 'SCHEDULED' })).toBe(1);
  });

  it('a patient books for themselves only', async () => {
    const doctorId = await newDoctor('Self');
    const own = await newPatient('Own');
    const other = await newPatient('Other');
    await gql(`mutation { createUser(input: { email: "own.patient@mail.example", password: "patient-password-1", role: PATIENT, patientId: "${own}" }) { id } }`);
    const token = await graph.login('own.patient@mail.example', 'patient-password-1');
    const [a, b] = await slots(doctorId);
    expect((await book(own, doctorId, a, token)).errors).toBeUndefined();
    expect(code(await book(other, doctorId, b, token))).toBe('FORBIDDEN');
    const history = await graph.as<{ appointments: { edges: { node: { patient: { id: string } } }[] } }>(token, `{ appointments(first: 50) { edges { node { patient { id } } } } }`);
    expect(history.data!.appointments.edges.map((e) => e.node.patient.id)).toEqual([own]);
  });
});

describe('what appointments keeps of doctors and patients', () => {
  it('sees a change made just before a booking: a new schedule, a deactivation, an erasure', async () => {
    const doctorId = await newDoctor('Fresh');
    const [first, second, third] = await slots(doctorId);
    const patients = await Promise.all(['Fresh1', 'Fresh2', 'Fresh3', 'Fresh4'].map(newPatient));
    // Both answers are now kept by appointments (platform/entityCache.ts).
    expect(code(await book(patients[0], doctorId, first))).toBeUndefined();

    // The schedule moves two hours later: the second slot is no longer one, right away.
    const later = await gql(`mutation S($d: ObjectID!, $s: [ScheduleWindowInput!]!) { setWeeklySchedule(doctorId: $d, schedule: $s) { id } }`, {
      d: doctorId,
      s: WEEK.map((weekday) => ({ weekday, start: '10:00', end: '18:00', slotMinutes: 30 })),
    });
    expect(later.errors).toBeUndefined();
    const moved = await book(patients[1], doctorId, second);
    expect(code(moved)).toBe('BAD_USER_INPUT');
    expect(moved.errors?.[0]?.message).toMatch(/is not one of/);

    // Deactivated: no booking, right away; active again: bookings again.
    await gql(`mutation D($d: ObjectID!) { deactivateDoctor(id: $d) { id } }`, { d: doctorId });
    const refused = await book(patients[1], doctorId, third);
    expect(code(refused)).toBe('BAD_USER_INPUT');
    expect(refused.errors?.[0]?.message).toMatch(/not taking appointments/);
    await gql(`mutation A($d: ObjectID!) { activateDoctor(id: $d) { id } }`, { d: doctorId });
    const [free] = await slots(doctorId);
    expect(code(await book(patients[1], doctorId, free))).toBeUndefined();

    // An erased patient cannot be booked, right away, although appointments knew them a moment ago.
    const [next] = await slots(doctorId);
    expect(code(await book(patients[2], doctorId, next))).toBeUndefined();
    expect((await gql(`mutation E($p: ObjectID!) { deletePatient(id: $p) }`, { p: patients[2] })).errors).toBeUndefined();
    const [another] = await slots(doctorId);
    expect(code(await book(patients[2], doctorId, another))).toBe('NOT_FOUND');
  });
});

describe('changes', () => {
  it('reschedules into a free slot, releasing the old one; refuses a booked slot', async () => {
    const doctorId = await newDoctor('Move');
    const [p1, p2] = [await newPatient('M1'), await newPatient('M2')];
    const [s1, s2, s3] = await slots(doctorId);
    const a = (await book(p1, doctorId, s1)).data!.bookAppointment.id;
    await book(p2, doctorId, s3);
    const moved = await gql<{ rescheduleAppointment: { start: string } }>(`mutation { rescheduleAppointment(id: "${a}", start: "${s2.start}", end: "${s2.end}") { start } }`);
    expect(moved.data?.rescheduleAppointment.start).toBe(s2.start);
    expect((await slots(doctorId)).map((s) => s.start)).toContain(s1.start);
    expect(code(await gql(`mutation { rescheduleAppointment(id: "${a}", start: "${s3.start}", end: "${s3.end}") { id } }`))).toBe('CONFLICT');
    const events = (await appointmentsModel().findById(a).lean())!.outbox.map((e) => e.type);
    expect(events).toEqual(['APPOINTMENT_BOOKED', 'CARE_RELATION', 'APPOINTMENT_RESCHEDULED']);
  });

  it('cancels once, frees the slot, and refuses to cancel or move a cancelled appointment', async () => {
    const doctorId = await newDoctor('Cancel');
    const p = await newPatient('C1');
    const [s1, s2] = await slots(doctorId);
    const a = (await book(p, doctorId, s1)).data!.bookAppointment.id;
    const cancelled = await gql<{ cancelAppointment: { status: string; cancellationReason: string } }>(`mutation { cancelAppointment(id: "${a}", reason: "Feeling better") { status cancellationReason } }`);
    expect(cancelled.data?.cancelAppointment).toEqual({ status: 'CANCELLED', cancellationReason: 'Feeling better' });
    const twice = await gql(`mutation { cancelAppointment(id: "${a}", reason: "again") { id } }`);
    expect(code(twice)).toBe('CONFLICT');
    expect(twice.errors![0].message).toMatch(/already cancelled/);
    expect(code(await gql(`mutation { rescheduleAppointment(id: "${a}", start: "${s2.start}", end: "${s2.end}") { id } }`))).toBe('CONFLICT');
    expect((await book(await newPatient('C2'), doctorId, s1)).errors).toBeUndefined();
  });

  it('completes a started visit with its conditions, refuses a future one', async () => {
    const doctorId = await newDoctor('Done');
    const p = await newPatient('D1');
    const [s1] = await slots(doctorId);
    const a = (await book(p, doctorId, s1)).data!.bookAppointment.id;
    expect(code(await gql(`mutation { completeAppointment(id: "${a}", conditions: ["Flu"]) { id } }`))).toBe('CONFLICT');
    // The visit takes place: move it into the past (test fixture; booking in the past is refused).
    await setAppointmentFields(graph, a, { start: new Date(Date.now() - 3_600_000), end: new Date(Date.now() - 1_800_000) });
    const done = await gql<{ completeAppointment: { status: string; conditions: string[] } }>(`mutation { completeAppointment(id: "${a}", conditions: ["Flu", "Fever", "Flu"], notes: "Rest") { status conditions } }`);
    expect(done.data?.completeAppointment).toEqual({ status: 'COMPLETED', conditions: ['Flu', 'Fever'] });
    expect(code(await gql(`mutation { markNoShow(id: "${a}") { id } }`))).toBe('CONFLICT');
  });

  it('shows the booking history on the patient and the day on the doctor, across subgraphs', async () => {
    const doctorId = await newDoctor('Hist');
    const p = await newPatient('H1');
    const [s1, s2] = await slots(doctorId);
    await book(p, doctorId, s1);
    await book(p, doctorId, s2);
    const res = await gql<{ patient: { name: string; appointments: { edges: { node: { start: string } }[] } }; doctor: { name: string; appointments: { patient: { name: string } }[] } }>(
      `query H($p: ObjectID!, $d: ObjectID!, $f: DateTime!, $t: DateTime!) {
        patient(id: $p) { name appointments { edges { node { start } } } }
        doctor(id: $d) { name appointments(from: $f, to: $t) { patient { name } } } }`,
      { p, d: doctorId, f: new Date().toISOString(), t: new Date(Date.now() + 10 * 86_400_000).toISOString() },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data!.patient.appointments.edges.map((e) => e.node.start)).toEqual([s2.start, s1.start]);
    expect(res.data!.doctor.appointments.map((a) => a.patient.name)).toEqual(['H1 Booker', 'H1 Booker']);
  });
});

describe('bad input is refused with a clear code and nothing is written', () => {
  let doctorId: string;
  let patientId: string;
  let slot: { start: string; end: string };
  beforeAll(async () => {
    doctorId = await newDoctor('Strict');
    patientId = await newPatient('Bad');
    [slot] = await slots(doctorId);
  });
  const count = () => appointmentsModel().countDocuments({ patientId });
  const attempt = async (input: Record<string, unknown>, expected: string, message?: RegExp) => {
    const before = await count();
    const res = await gql(BOOK, { i: { patientId, doctorId, start: slot.start, end: slot.end, reason: 'x', ...input } });
    expect(res.status).toBeLessThan(500);
    expect(code(res)).toBe(expected);
    if (message) expect(res.errors![0].message).toMatch(message);
    expect(await count()).toBe(before);
  };
  const shift = (iso: string, ms: number) => new Date(new Date(iso).getTime() + ms).toISOString();

  it('missing field', () => attempt({ reason: undefined }, 'BAD_USER_INPUT'));
  it('empty reason', () => attempt({ reason: '  ' }, 'BAD_USER_INPUT'));
  it('end before start', () => attempt({ end: shift(slot.start, -60_000) }, 'BAD_USER_INPUT', /end must be after start/));
  it('a slot outside working hours', async () => {
    const night = new Date(slot.start);
    night.setUTCHours(1, 0, 0, 0);
    await attempt({ start: night.toISOString(), end: shift(night.toISOString(), 1_800_000) }, 'BAD_USER_INPUT', /is not one of Dr\. Strict Test's slots/);
  });
  it('a slot that does not fit the grid', () => attempt({ start: shift(slot.start, 600_000), end: shift(slot.end, 600_000) }, 'BAD_USER_INPUT'));
  it('a slot in the past', () => attempt({ start: '2020-01-06T08:00:00Z', end: '2020-01-06T08:30:00Z' }, 'BAD_USER_INPUT', /future/));
  it('an unknown doctor', () => attempt({ doctorId: '65d0000000000000000000ff' }, 'NOT_FOUND'));
  it('an unknown patient', () => attempt({ patientId: '65e0000000000000000000ff' }, 'NOT_FOUND'));
  it('an inactive doctor', async () => {
    const inactive = await newDoctor('Gone');
    const [s] = await slots(inactive);
    await gql(`mutation { deactivateDoctor(id: "${inactive}") { id } }`);
    await attempt({ doctorId: inactive, start: s.start, end: s.end }, 'BAD_USER_INPUT', /not taking appointments/);
    expect(await slots(inactive)).toEqual([]);
  });
  it('an unknown appointment', async () => {
    expect(code(await gql(`mutation { cancelAppointment(id: "65a0000000000000000000ff", reason: "x") { id } }`))).toBe('NOT_FOUND');
  });
});

describe('care relations handed to patients', () => {
  it('records those asked for at the same time (sent together), and an unknown patient fails only its own', async () => {
    const directory = new Directory(new ServiceClient(graph.cfg, 'appointments'));
    const doctorId = await newDoctor('Many');
    const patients = await Promise.all(Array.from({ length: 6 }, (_v, i) => newPatient(`Cared${i}`)));
    const unknown = '65e0000000000000000000aa';
    const asked = [...patients.slice(0, 3), unknown, ...patients.slice(3)];
    const results = await Promise.allSettled(asked.map((p, i) => directory.recordCareRelation(p, doctorId, `care-test-${i}`)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
    expect((results[3] as PromiseRejectedResult).reason).toMatchObject({ extensions: { code: 'NOT_FOUND' } });
    // Again (a relay's retry): idempotent, nothing doubled.
    await Promise.all(patients.map((p) => directory.recordCareRelation(p, doctorId, 'care-test-again')));
    const relations = graph.subgraphs.patients!.conn.model<CareRelationDoc>('CareRelation');
    expect((await relations.find({ doctorId }).lean()).map((r) => r.patientId).sort()).toEqual([...patients].sort());
  });
});
