import { dbName, type Config } from '../platform/config';
import { NOTIFY_APPOINTMENT_EVENTS, type AppointmentNotice } from '../platform/jobNames';
import { JOBS_DB } from '../platform/jobs';
import { QUEUES_DB } from '../platform/queue';
import { startSubgraph, type RunningSubgraph } from '../platform/subgraph';
import { accountsSubgraph } from '../subgraphs/accounts/index';
import { appointmentsSubgraph } from '../subgraphs/appointments/index';
import { doctorsSubgraph } from '../subgraphs/doctors/index';
import type { NotificationDoc } from '../subgraphs/notifications/model';
import { notificationsSubgraph } from '../subgraphs/notifications/index';
import { MAX_JOB_ATTEMPTS, REMINDER_JOB } from '../subgraphs/notifications/jobs';
import { dueHourOf, type ReminderDoc } from '../subgraphs/notifications/reminders';
import { reminderTime } from '../subgraphs/notifications/templates';
import { patientsSubgraph } from '../subgraphs/patients/index';
import { startRouter } from '../router/server';
import { postGraphQL, silentLog, startTestGraph, type TestGraph, waitFor } from './helpers';
import { notificationsWorkerEnv, spawnService } from './serviceProcess';

/**
 * Notifications end to end: the durable hand-off from appointments, Agenda jobs, reminders in the
 * patient's zone, exactly-once delivery across workers, faulty data.
 */
let graph: TestGraph;
let admin: string;
let worker: RunningSubgraph | undefined;
const gql: TestGraph['gql'] = (q, v) => graph.as(admin, q, v);
const WEEK = ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'];

const notifications = () => graph.subgraphs.appointments!.conn.useDb(dbName(graph.cfg, 'notifications')).collection<NotificationDoc>('notifications');
const jobs = () => graph.subgraphs.appointments!.conn.useDb(dbName(graph.cfg, JOBS_DB)).collection('agendaJobs');
const notices = () => graph.subgraphs.appointments!.conn.useDb(dbName(graph.cfg, QUEUES_DB)).collection<AppointmentNotice>(NOTIFY_APPOINTMENT_EVENTS);
const reminders = () => graph.subgraphs.appointments!.conn.useDb(dbName(graph.cfg, 'notifications')).collection<ReminderDoc>('reminders');

async function startWorker(overrides: Partial<Config> = {}): Promise<RunningSubgraph> {
  return startSubgraph(notificationsSubgraph, { port: 0, config: { ...graph.cfg, REMINDER_POLL_SECONDS: 1, ...overrides }, logger: silentLog });
}

async function doctor(tz = 'Europe/Berlin'): Promise<string> {
  const res = await gql<{ createDoctor: { id: string } }>(`mutation D($i: CreateDoctorInput!) { createDoctor(input: $i) { id } }`, {
    i: { firstName: 'Nora', lastName: 'Notify', specialty: 'Neurology', timeZone: tz, weeklySchedule: WEEK.map((weekday) => ({ weekday, start: '00:00', end: '23:30', slotMinutes: 30 })) },
  });
  return res.data!.createDoctor.id;
}
async function patient(extra: Record<string, unknown>): Promise<string> {
  const res = await gql<{ registerPatient: { id: string } }>(`mutation P($i: RegisterPatientInput!) { registerPatient(input: $i) { id } }`, {
    i: { firstName: 'Paula', lastName: 'Notified', dateOfBirth: '1975-05-05', sex: 'FEMALE', ...extra },
  });
  return res.data!.registerPatient.id;
}
/** Books the first free slot at least `hoursAhead` from now. */
async function book(patientId: string, doctorId: string, hoursAhead = 50): Promise<{ id: string; start: string }> {
  const from = new Date(Date.now() + hoursAhead * 3_600_000).toISOString();
  const to = new Date(Date.now() + (hoursAhead + 24) * 3_600_000).toISOString();
  const slots = await gql<{ availableSlots: { start: string; end: string }[] }>(
    `query S($d: ObjectID!, $f: DateTime!, $t: DateTime!) { availableSlots(doctorId: $d, from: $f, to: $t) { start end } }`,
    { d: doctorId, f: from, t: to },
  );
  const slot = slots.data!.availableSlots[0];
  const res = await gql<{ bookAppointment: { id: string; start: string } }>(`mutation B($i: BookAppointmentInput!) { bookAppointment(input: $i) { id start } }`, {
    i: { patientId, doctorId, start: slot.start, end: slot.end, reason: 'Headache' },
  });
  if (!res.data) throw new Error(JSON.stringify(res.errors));
  return res.data.bookAppointment;
}

beforeAll(async () => {
  // Notifications is not started yet: bookings made now must be confirmed once it runs.
  graph = await startTestGraph([accountsSubgraph, patientsSubgraph, doctorsSubgraph, appointmentsSubgraph]);
  admin = await graph.login(graph.cfg.SUPERADMIN_EMAIL, graph.cfg.SUPERADMIN_PASSWORD);
});
afterAll(async () => {
  await worker?.stop();
  await graph.stop();
});

describe('durable hand-off', () => {
  it('confirms a booking made while notifications was down, once it is back, personalised in the patient zone', async () => {
    const d = await doctor('Europe/Berlin');
    const p = await patient({ email: 'paula@mail.example', phone: '+12125550100', timeZone: 'America/New_York' });
    const appt = await book(p, d);
    expect(await notifications().countDocuments({ appointmentId: appt.id })).toBe(0);

    worker = await startWorker();
    const sent = await waitFor(() => notifications().findOne({ appointmentId: appt.id, kind: 'APPOINTMENT_CONFIRMED', status: 'SENT' }));
    expect(sent).toMatchObject({ channel: 'EMAIL', to: 'paula@mail.example', deliveries: 1, patientId: p });
    expect(sent.message).toContain('Hello Paula, your appointment with Dr. Nora Notify (Neurology) is confirmed');
    // New York local time of the slot, not Berlin's.
    const local = new Date(appt.start).toLocaleTimeString('en-GB', { timeZone: 'America/New_York', hour: '2-digit', minute: '2-digit' });
    expect(sent.message).toContain(`at ${local} EST`);
  });
});

describe('reminders', () => {
  it('plans the reminder one day before in the patient zone, moves it on reschedule, drops it on cancel, sends it once due', async () => {
    const d = await doctor('Europe/Berlin');
    const p = await patient({ phone: '+4915112340077', timeZone: 'Europe/Berlin' });
    const appt = await book(p, d, 60);
    const planned = await waitFor(() => reminders().findOne({ _id: appt.id }));
    expect(planned.dueAt.toISOString()).toBe(reminderTime(new Date(appt.start), 'Europe/Berlin').toISOString());
    expect(planned).toMatchObject({ zone: 'Europe/Berlin', attempts: 0 });
    expect(planned.start.toISOString()).toBe(appt.start);

    // Move it by a day: the reminder moves with it.
    const later = await book(await patient({ phone: '+4915112340078' }), d, 90);
    await gql(`mutation { cancelAppointment(id: "${later.id}", reason: "free the slot") { id } }`);
    const slotEnd = new Date(new Date(later.start).getTime() + 1_800_000).toISOString();
    await gql(`mutation { rescheduleAppointment(id: "${appt.id}", start: "${later.start}", end: "${slotEnd}") { id } }`);
    const moved = await waitFor(async () => {
      const r = await reminders().findOne({ _id: appt.id });
      return r && r.start.toISOString() === later.start && r;
    });
    expect(moved.dueAt.toISOString()).toBe(reminderTime(new Date(later.start), 'Europe/Berlin').toISOString());

    // Time control: make the reminder due now instead of sleeping a day.
    const now = new Date();
    await reminders().updateOne({ _id: appt.id }, { $set: { dueAt: now, dueHour: dueHourOf(now) } });
    const reminder = await waitFor(() => notifications().findOne({ appointmentId: appt.id, kind: 'APPOINTMENT_REMINDER' }));
    expect(reminder).toMatchObject({ channel: 'SMS', to: '+4915112340077', dedupeKey: `reminder:${appt.id}:${later.start}` });
    const sent = await waitFor(() => notifications().findOne({ _id: reminder._id, status: 'SENT' }));
    expect(sent.message).toMatch(/^Reminder for Paula: tomorrow, /);
    expect(sent.deliveries).toBe(1);
    // Handled: the pending reminder is gone, and it was sent once.
    await waitFor(async () => (await reminders().countDocuments({ _id: appt.id })) === 0);
    expect(await notifications().countDocuments({ appointmentId: appt.id, kind: 'APPOINTMENT_REMINDER' })).toBe(1);

    // Cancelling drops a planned reminder.
    const third = await book(await patient({ phone: '+4915112340079' }), d, 70);
    await waitFor(() => reminders().findOne({ _id: third.id }));
    await gql(`mutation { cancelAppointment(id: "${third.id}", reason: "no longer needed") { id } }`);
    await waitFor(async () => (await reminders().countDocuments({ _id: third.id })) === 0);
  });

  it('moves reminder jobs of an older installation into the reminders collection at start-up', async () => {
    await worker!.stop();
    const appt = await book(await patient({ phone: '+4915112340080' }), await doctor(), 80);
    const at = reminderTime(new Date(appt.start), 'America/New_York');
    await jobs().insertOne({ name: REMINDER_JOB, data: { appointmentId: appt.id, start: appt.start, zone: 'America/New_York' }, type: 'normal', priority: 0, nextRunAt: at });
    await jobs().insertOne({ name: REMINDER_JOB, data: { appointmentId: '65a0000000000000000000bb', start: appt.start, zone: 'UTC' }, type: 'normal', priority: 0, nextRunAt: null, lastFinishedAt: new Date() });
    worker = await startWorker();
    await waitFor(async () => (await jobs().countDocuments({ name: REMINDER_JOB })) === 0);
    const r = await reminders().findOne({ _id: appt.id });
    // The booking's own confirmation may have planned it first (same time, patient zone Berlin): kept as it was.
    expect(r!.start.toISOString()).toBe(appt.start);
    expect(await reminders().countDocuments({ _id: '65a0000000000000000000bb' })).toBe(0);
  });

  it('computes "one day before" on the wall clock across a daylight-saving change', () => {
    // Berlin springs forward on Sunday 28 March 2027: 09:00 CEST that day is 07:00Z; the day
    // before, 09:00 CET is 08:00Z: 23 hours earlier, not 24.
    expect(reminderTime(new Date('2027-03-28T07:00:00Z'), 'Europe/Berlin').toISOString()).toBe('2027-03-27T08:00:00.000Z');
    // New York falls back on Sunday 7 November 2027: 25 hours.
    expect(reminderTime(new Date('2027-11-08T14:00:00Z'), 'America/New_York').toISOString()).toBe('2027-11-07T14:00:00.000Z');
    expect(reminderTime(new Date('2027-11-07T14:00:00Z'), 'America/New_York').toISOString()).toBe('2027-11-06T13:00:00.000Z');
  });
});

describe('faulty data', () => {
  it('fails with a readable reason and the worker keeps running', async () => {
    const d = await doctor();
    // No email and no phone: the confirmation goes by SMS and cannot.
    const noContact = await book(await patient({}), d);
    const failed = await waitFor(() => notifications().findOne({ appointmentId: noContact.id, status: 'FAILED' }));
    expect(failed.failureReason).toBe('No phone number on file for SMS');

    // The patient record is erased before the notice goes out.
    await worker!.stop();
    const gone = await patient({ email: 'gone@mail.example' });
    const goneAppt = await book(gone, d);
    await gql(`mutation { deletePatient(id: "${gone}") }`);
    // An event about an appointment that does not exist, handed on as a job (as releases before the queue did).
    await jobs().insertOne({ name: 'notifications.appointment-event', data: { eventId: 'e-missing', type: 'APPOINTMENT_BOOKED', appointmentId: '65a0000000000000000000aa' }, type: 'normal', priority: 0, nextRunAt: new Date() });
    // And the same through the queue.
    await notices().insertOne({ _id: 'e-missing-q', type: 'APPOINTMENT_BOOKED', appointmentId: '65a0000000000000000000ab', queuedAt: new Date() });
    worker = await startWorker();
    expect((await waitFor(() => notifications().findOne({ appointmentId: goneAppt.id, status: 'FAILED' }))).failureReason).toBe('The patient record no longer exists');
    expect((await waitFor(() => notifications().findOne({ dedupeKey: 'event:e-missing', status: 'FAILED' }))).failureReason).toBe('The appointment no longer exists');
    expect((await waitFor(() => notifications().findOne({ dedupeKey: 'event:e-missing-q', status: 'FAILED' }))).failureReason).toBe('The appointment no longer exists');
    await waitFor(async () => (await notices().countDocuments({ _id: 'e-missing-q' })) === 0);

    const fine = await book(await patient({ email: 'fine@mail.example' }), d);
    expect(await waitFor(() => notifications().findOne({ appointmentId: fine.id, status: 'SENT' }))).toBeTruthy();
  });
  it('a notice that keeps failing gives up visibly: the notification is FAILED with the reason, not left out', async () => {
    await worker!.stop();
    const p = await patient({ email: 'late@mail.example' });
    const appt = await book(p, await doctor());
    // The notice waits (notifications is down); make the next its last attempt, and the patients service unreachable.
    const filter = { appointmentId: appt.id };
    await waitFor(() => notices().findOne(filter));
    await notices().updateOne(filter, { $set: { attempts: MAX_JOB_ATTEMPTS - 1 } });
    // Its reminder too, fallen due over an hour ago: the first failure gives it up.
    const dueAt = new Date(Date.now() - 2 * 3_600_000);
    await reminders().insertOne({ _id: appt.id, start: new Date(appt.start), zone: 'Europe/Berlin', dueAt, dueHour: dueHourOf(dueAt), attempts: 0 });
    worker = await startWorker({ SUBGRAPH_PATIENTS_URL: 'http://127.0.0.1:9/graphql' });
    const reminderFailed = await waitFor(() => notifications().findOne({ appointmentId: appt.id, kind: 'APPOINTMENT_REMINDER', status: 'FAILED' }), 30_000);
    expect(reminderFailed.failureReason).toMatch(/^Not sent: gave up after 1 attempt \(The patients service is unavailable/);
    await waitFor(async () => (await reminders().countDocuments({ _id: appt.id })) === 0);
    const failed = await waitFor(() => notifications().findOne({ appointmentId: appt.id, kind: 'APPOINTMENT_CONFIRMED', status: 'FAILED' }), 30_000);
    expect(failed.failureReason).toMatch(new RegExp(`^Not sent: gave up after ${MAX_JOB_ATTEMPTS} attempts \\(The patients service is unavailable`));
    expect(failed).toMatchObject({ kind: 'APPOINTMENT_CONFIRMED', patientId: p, deliveries: 0 });
    await worker.stop();
    worker = await startWorker();
  });
});

describe('exactly once', () => {
  it('sends once when one of two workers is killed in the middle of delivering', async () => {
    await worker!.stop();
    worker = undefined;
    const d = await doctor();
    const appt = await book(await patient({ email: 'once@mail.example' }), d);

    // Worker A: a separate process that claims the message and then hangs before delivering.
    const a = spawnService('notifications', {
      ...notificationsWorkerEnv(graph.cfg, graph.subgraphs),
      LOG_LEVEL: 'silent',
      JOBS_PROCESS_EVERY_MS: '100',
      JOB_LOCK_LIFETIME_MS: '1500',
      NOTIFICATIONS_FAULT_PAUSE_BEFORE_SEND_MS: '60000',
    }).proc;
    try {
      const claimed = await waitFor(() => notifications().findOne({ appointmentId: appt.id, attempts: 1, status: 'QUEUED' }), 30_000);
      // Worker B runs beside it; then A dies mid-run.
      worker = await startWorker({ JOB_LOCK_LIFETIME_MS: 1500 });
      a.kill('SIGKILL');
      const sent = await waitFor(() => notifications().findOne({ _id: claimed._id, status: 'SENT' }), 15_000);
      expect(sent.deliveries).toBe(1);
      expect(sent.attempts).toBe(2);
      expect(await notifications().countDocuments({ appointmentId: appt.id, kind: 'APPOINTMENT_CONFIRMED' })).toBe(1);
    } finally {
      a.kill('SIGKILL');
    }
  }, 60_000);
});

describe('reading notifications', () => {
  it('a patient sees their own through the graph and marks them read; others see nothing of it', async () => {
    const d = await doctor();
    const p = await patient({ email: 'reader@mail.example' });
    const appt = await book(p, d);
    await waitFor(() => notifications().findOne({ appointmentId: appt.id, status: 'SENT' }));
    await gql(`mutation { createUser(input: { email: "reader.user@mail.example", password: "reader-password-1", role: PATIENT, patientId: "${p}" }) { id } }`);
    // The test graph's router was started before notifications: a router that knows all of them.
    const router = await startRouter({
      port: 0,
      config: graph.cfg,
      logger: silentLog,
      subgraphUrls: { ...Object.fromEntries(Object.values(graph.subgraphs).map((s) => [s.name, s.url])), notifications: worker!.url },
    });
    const as = <T>(tk: string, q: string) => postGraphQL<T>(router.url, q, {}, { authorization: `Bearer ${tk}` });
    try {
      const token = await graph.login('reader.user@mail.example', 'reader-password-1');
      const mine = await as<{ patient: { notifications: { edges: { node: { id: string; kind: string; readAt: string | null } }[] } } }>(
        token,
        `{ patient(id: "${p}") { notifications { edges { node { id kind readAt } } } } }`,
      );
      expect(mine.errors).toBeUndefined();
      const [n] = mine.data!.patient.notifications.edges.map((e) => e.node);
      expect(n.kind).toBe('APPOINTMENT_CONFIRMED');
      const read = await as<{ markNotificationRead: { readAt: string } }>(token, `mutation { markNotificationRead(id: "${n.id}") { readAt } }`);
      expect(read.data?.markNotificationRead.readAt).toEqual(expect.any(String));

      await gql(`mutation { createUser(input: { email: "nosy.nurse@clinic.example", password: "nurse-password-1", role: NURSE }) { id } }`);
      const nurse = await graph.login('nosy.nurse@clinic.example', 'nurse-password-1');
      expect((await as(nurse, `{ notification(id: "${n.id}") { message } }`)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      const list = await as<{ notifications: { edges: unknown[] } }>(nurse, `{ notifications { edges { node { id } } } }`);
      expect(list.data!.notifications.edges).toEqual([]);
    } finally {
      await router.stop();
    }
  });
});
