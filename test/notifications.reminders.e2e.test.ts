import { Types } from 'mongoose';
import { dbName } from '../platform/config';
import { JOBS_DB } from '../platform/jobs';
import { accountsSubgraph } from '../subgraphs/accounts/index';
import { appointmentsSubgraph } from '../subgraphs/appointments/index';
import { doctorsSubgraph } from '../subgraphs/doctors/index';
import { REMINDERS_DUE_JOB } from '../subgraphs/notifications/jobs';
import type { NotificationDoc } from '../subgraphs/notifications/model';
import { dueHourOf, type ReminderDoc } from '../subgraphs/notifications/reminders';
import { patientsSubgraph } from '../subgraphs/patients/index';
import { startTestGraph, type TestGraph, waitFor } from './helpers';
import { deliveredIds, notificationsWorkerEnv, spawnService, type ServiceProcess } from './serviceProcess';

/**
 * Many appointment reminders falling due at once are sent in batches by one recurring job: with
 * two workers, one killed (SIGKILL) in the middle, every reminder is still sent exactly once and
 * the collection of pending reminders ends empty.
 */
const REMINDERS = 200;
const PATIENTS = 20;
const WEEK = ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'];

let graph: TestGraph;
let admin: string;
const gql: TestGraph['gql'] = (q, v) => graph.as(admin, q, v);
const db = (service: string) => graph.subgraphs.appointments!.conn.useDb(dbName(graph.cfg, service));
const notifications = () => db('notifications').collection<NotificationDoc>('notifications');
const reminders = () => db('notifications').collection<ReminderDoc>('reminders');
const dueJob = () => db(JOBS_DB).collection('agendaJobs').findOne({ name: REMINDERS_DUE_JOB });

/** A notifications worker in its own process. */
const spawnWorker = (env: Record<string, string>) =>
  spawnService('notifications', {
    ...notificationsWorkerEnv(graph.cfg, graph.subgraphs),
    JOBS_PROCESS_EVERY_MS: '200',
    REMINDER_POLL_SECONDS: '1',
    // A short lease (the due job's lock, a message's claim): the dead worker's share is free again soon.
    JOB_LOCK_LIFETIME_MS: '5000',
    ...env,
  });

/**
 * REMINDERS scheduled appointments starting within the next day (their reminder time is past, so
 * no sweep plans them again), written straight into the appointments collection, and a pending
 * reminder for each, due now. Returns the appointment ids.
 */
async function dueReminders(): Promise<string[]> {
  const d = await gql<{ createDoctor: { id: string } }>(`mutation D($i: CreateDoctorInput!) { createDoctor(input: $i) { id } }`, {
    i: { firstName: 'Rita', lastName: 'Remind', specialty: 'Dermatology', timeZone: 'Europe/Berlin', weeklySchedule: WEEK.map((weekday) => ({ weekday, start: '00:00', end: '23:30', slotMinutes: 30 })) },
  });
  const doctorId = d.data!.createDoctor.id;
  const patientIds: string[] = [];
  for (let i = 0; i < PATIENTS; i++) {
    const p = await gql<{ registerPatient: { id: string } }>(`mutation P($i: RegisterPatientInput!) { registerPatient(input: $i) { id } }`, {
      i: { firstName: `Rem${i}`, lastName: 'Inder', dateOfBirth: '1980-01-01', sex: 'MALE', phone: '+12125550122', timeZone: 'Europe/Berlin' },
    });
    patientIds.push(p.data!.registerPatient.id);
  }
  const now = Date.now();
  const appointments = Array.from({ length: REMINDERS }, (_v, i) => {
    const start = new Date(Math.floor((now + 12 * 3_600_000) / 60_000) * 60_000 + i * 60_000);
    return {
      _id: new Types.ObjectId(),
      patientId: patientIds[i % PATIENTS],
      doctorId,
      start,
      end: new Date(start.getTime() + 60_000),
      localDate: start.toISOString().slice(0, 10),
      timeZone: 'Europe/Berlin',
      reason: 'Check-up',
      status: 'SCHEDULED',
      conditions: [],
      specialty: 'Dermatology',
      slotKey: `${doctorId}|${start.toISOString()}`,
      createdAt: new Date(now),
      updatedAt: new Date(now),
    };
  });
  await db('appointments').collection('appointments').insertMany(appointments);
  const due = new Date();
  await reminders().insertMany(appointments.map((a) => ({ _id: String(a._id), start: a.start, zone: 'Europe/Berlin', dueAt: due, dueHour: dueHourOf(due), attempts: 0 })));
  return appointments.map((a) => String(a._id));
}

beforeAll(async () => {
  graph = await startTestGraph([accountsSubgraph, patientsSubgraph, doctorsSubgraph, appointmentsSubgraph]);
  admin = await graph.login(graph.cfg.SUPERADMIN_EMAIL, graph.cfg.SUPERADMIN_PASSWORD);
}, 60_000);
afterAll(async () => {
  await graph.stop();
});

describe('many reminders due at once', () => {
  it('sends every one exactly once when one of two workers is killed in the middle, and keeps none pending', async () => {
    const appointmentIds = await dueReminders();
    const sentReminders = async () => notifications().find({ kind: 'APPOINTMENT_REMINDER', status: 'SENT' }).toArray();

    // Worker A pauses before each delivery, so the kill finds it with reminders claimed and not yet sent.
    const a = spawnWorker({ NOTIFICATIONS_FAULT_PAUSE_BEFORE_SEND_MS: '400' });
    let b: ServiceProcess | undefined;
    try {
      await waitFor(async () => (await sentReminders()).length >= 20 && (await notifications().countDocuments({ kind: 'APPOINTMENT_REMINDER', status: 'QUEUED', attempts: { $gte: 1 } })) >= 1, 120_000);
      b = spawnWorker({});
      a.proc.kill('SIGKILL');
      await a.exited;
      const sentAtKill = new Set((await sentReminders()).map((n) => String(n._id)));
      expect(sentAtKill.size).toBeLessThan(REMINDERS);

      await waitFor(async () => (await sentReminders()).length === REMINDERS && (await reminders().countDocuments({})) === 0, 180_000).catch(async (err: Error) => {
        const left = await reminders().find({}).toArray();
        console.log(JSON.stringify({ sent: (await sentReminders()).length, left: left.slice(0, 5), pending: left.length, bWarnings: b!.lines.filter((l) => Number(l.level) >= 40).slice(0, 10) }));
        throw err;
      });

      // One reminder per appointment, under its dedupe key, delivered once by the record's own count.
      const all = await notifications().find({ kind: 'APPOINTMENT_REMINDER' }).toArray();
      expect(all).toHaveLength(REMINDERS);
      expect(new Set(all.map((n) => n.appointmentId))).toEqual(new Set(appointmentIds));
      for (const n of all) {
        expect(n).toMatchObject({ status: 'SENT', deliveries: 1, channel: 'SMS', to: '+12125550122' });
        expect(n.dedupeKey).toMatch(new RegExp(`^reminder:${n.appointmentId!}:`));
      }

      // The channel: every reminder went out; B sent none twice and none already sent at the kill.
      const fromA = deliveredIds(a);
      const fromB = deliveredIds(b);
      expect(new Set([...fromA, ...fromB])).toEqual(new Set(all.map((n) => String(n._id))));
      expect(new Set(fromA).size).toBe(fromA.length);
      expect(new Set(fromB).size).toBe(fromB.length);
      for (const id of fromB) expect(sentAtKill.has(id)).toBe(false);
    } finally {
      a.proc.kill('SIGKILL');
      b?.proc.kill('SIGKILL');
      await Promise.all([a.exited, b?.exited]);
    }
  }, 600_000);
});

describe('the due job between its polls', () => {
  it('runs next when the next reminder falls due, not at its next poll', async () => {
    // A reminder due in ten minutes, and a worker that polls for due reminders once an hour.
    const dueAt = new Date(Math.floor((Date.now() + 600_000) / 1000) * 1000);
    const appointmentId = String(new Types.ObjectId());
    await reminders().insertOne({ _id: appointmentId, start: new Date(dueAt.getTime() + 86_400_000), zone: 'UTC', dueAt, dueHour: dueHourOf(dueAt), attempts: 0 });
    const spawned = new Date();
    const worker = spawnWorker({ REMINDER_POLL_SECONDS: '3600' });
    try {
      // Its first run finds nothing due and sets the next one to the reminder's time.
      const ranSinceSpawn = async () => {
        const finished = (await dueJob())?.lastFinishedAt as Date | null | undefined;
        return finished instanceof Date && finished.getTime() >= spawned.getTime();
      };
      await waitFor(ranSinceSpawn, 120_000);
      const job = await dueJob();
      expect(job?.nextRunAt).toEqual(dueAt);
      expect(job?.repeatInterval).toBe('3600 seconds');
    } finally {
      worker.proc.kill('SIGKILL');
      await worker.exited;
      await reminders().deleteOne({ _id: appointmentId });
    }
  }, 300_000);
});
