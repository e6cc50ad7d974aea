import { Types, type Connection } from 'mongoose';
import { Claims, claimsModel } from '../../platform/claim';
import type { Config } from '../../platform/config';
import type { AppointmentChange, AppointmentObservation } from '../../platform/jobNames';
import { Queue, QUEUES_DB } from '../../platform/queue';
import { dropTestDatabases, openDb, testConfig } from '../../test/helpers';
import { Backfill } from './backfill';
import { Folder } from './fold';
import { createAnalyticsModels, type AnalyticsModels, type DayDoc } from './model';
import { monthsAndEdgeDays } from './reports';

/** The incremental fold against the real database: exact counts, repeats and interruptions. */
const SERVICE = 'foldtest';
let cfg: Config;
let conn: Connection;
let models: AnalyticsModels;
let claims: Claims;
let queue: Queue<AppointmentChange>;
let queues: Connection;

beforeAll(async () => {
  cfg = testConfig();
  conn = await openDb(cfg, SERVICE);
  models = await createAnalyticsModels(conn);
  claims = new Claims(claimsModel(conn));
  queue = Queue.open<AppointmentChange>(conn, cfg, 'fold_test_changes');
  queues = await openDb(cfg, QUEUES_DB);
});
afterAll(async () => {
  await Promise.all([conn.close(), queues.close()]);
  await dropTestDatabases(cfg, [SERVICE, QUEUES_DB, 'appointments']);
});
beforeEach(async () => {
  await Promise.all([...Object.values(conn.collections), queues.collection('fold_test_changes')].map((c) => c.deleteMany({})));
});

const obs = (appointmentId: string, version: number, over: Partial<AppointmentObservation> = {}): AppointmentObservation => ({
  appointmentId,
  version,
  localDate: '2026-03-02',
  doctorId: 'd1',
  specialty: 'Cardiology',
  status: 'SCHEDULED',
  patientId: 'p1',
  conditions: [],
  ...over,
});

/** Every count in the day documents as "day|doctor|status" → n. */
async function dayCounts(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const d of await models.Day.find().lean<DayDoc[]>()) for (const e of d.doctors) out[`${d._id}|${e.doctorId}|${e.status}`] = e.n;
  return out;
}
async function patientDays(): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const p of await models.PatientDays.find().lean()) if (p.days.length) out[p._id] = p.days;
  return out;
}

describe('folding appointment changes into the day and patient documents', () => {
  it('moves a count when an appointment moves or changes status; old and repeated states count nothing', async () => {
    const folder = new Folder(models, queue, claims);
    await folder.observe(obs('a1', 1), obs('a2', 1, { patientId: 'p2', doctorId: 'd2' }));
    expect((await folder.run()).changes).toBe(2);
    expect(await dayCounts()).toEqual({ '2026-03-02|d1|SCHEDULED': 1, '2026-03-02|d2|SCHEDULED': 1 });

    // a1 rescheduled (v2) then completed with conditions (v3), both seen in one run.
    await folder.observe(obs('a1', 2, { localDate: '2026-03-05' }), obs('a1', 3, { localDate: '2026-03-05', status: 'COMPLETED', conditions: ['Flu', 'Fever'] }));
    await folder.run();
    expect(await dayCounts()).toEqual({ '2026-03-02|d2|SCHEDULED': 1, '2026-03-05|d1|COMPLETED': 1 });
    const day = await models.Day.findById('2026-03-05').lean<DayDoc>();
    expect(day!.conditions.map((c) => `${c.specialty}:${c.condition}:${c.n}`).sort()).toEqual(['Cardiology:Fever:1', 'Cardiology:Flu:1']);
    expect(await patientDays()).toEqual({ p1: ['2026-03-05'], p2: ['2026-03-02'] });

    // A late, older observation and a repeat of the newest change nothing.
    await folder.observe(obs('a1', 1), obs('a1', 3, { localDate: '2026-03-05', status: 'COMPLETED', conditions: ['Flu', 'Fever'] }));
    expect((await folder.run()).changes).toBe(2);
    expect(await dayCounts()).toEqual({ '2026-03-02|d2|SCHEDULED': 1, '2026-03-05|d1|COMPLETED': 1 });
    expect(await queue.count()).toBe(0);
  });

  it('matches an independent count after 300 shuffled observations folded in batches of 7', async () => {
    const folder = new Folder(models, queue, claims, 7);
    const days = ['2026-03-01', '2026-03-02', '2026-03-03'];
    const statuses = ['SCHEDULED', 'CANCELLED', 'COMPLETED', 'NO_SHOW'];
    const all: AppointmentObservation[] = [];
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    for (let a = 0; a < 40; a++)
      for (let v = 0; v < 1 + rnd(12); v++)
        all.push(obs(`a${a}`, v, { localDate: days[rnd(3)], status: statuses[rnd(4)], doctorId: `d${rnd(3)}`, patientId: `p${a % 9}` }));
    all.sort(() => rnd(3) - 1);
    // Arriving in three waves, with a run after each.
    for (const wave of [all.slice(0, 100), all.slice(100, 200), all.slice(200)]) {
      await folder.observe(...wave);
      await folder.run();
    }
    const newest = new Map<string, AppointmentObservation>();
    for (const o of all) if ((newest.get(o.appointmentId)?.version ?? -1) < o.version) newest.set(o.appointmentId, o);
    const expected: Record<string, number> = {};
    const expectedDays: Record<string, Set<string>> = {};
    for (const o of newest.values()) {
      const key = `${o.localDate}|${o.doctorId}|${o.status}`;
      expected[key] = (expected[key] ?? 0) + 1;
      (expectedDays[o.patientId] ??= new Set()).add(o.localDate);
    }
    expect(await dayCounts()).toEqual(expected);
    expect(await patientDays()).toEqual(Object.fromEntries(Object.entries(expectedDays).map(([p, s]) => [p, [...s].sort()])));
  });

  it('finishes an interrupted batch on the next run without counting anything twice', async () => {
    const folder = new Folder(models, queue, claims);
    await folder.observe(obs('a1', 1), obs('a2', 1, { patientId: 'p2' }), obs('a3', 1, { patientId: 'p3', localDate: '2026-03-09' }));
    // The run stops halfway through writing the patients (the day documents are written by then).
    const write = jest.spyOn(models.PatientDays, 'insertMany').mockRejectedValueOnce(new Error('process killed'));
    await expect(folder.run()).rejects.toThrow('process killed');
    write.mockRestore();
    expect(await models.Staged.countDocuments()).toBe(3);
    expect(await dayCounts()).toEqual({ '2026-03-02|d1|SCHEDULED': 2, '2026-03-09|d1|SCHEDULED': 1 });

    await folder.observe(obs('a1', 2, { status: 'CANCELLED' }));
    await folder.run();
    expect(await dayCounts()).toEqual({ '2026-03-02|d1|SCHEDULED': 1, '2026-03-02|d1|CANCELLED': 1, '2026-03-09|d1|SCHEDULED': 1 });
    expect(await patientDays()).toEqual({ p1: ['2026-03-02'], p2: ['2026-03-02'], p3: ['2026-03-09'] });
    expect(await models.Staged.countDocuments()).toBe(0);
  });
});

describe('counting every appointment from the appointments database (backfill)', () => {
  it('counts each appointment once, a batch at a time, however often it runs, and marks itself done', async () => {
    const appointments = await openDb(cfg, 'appointments');
    try {
      const col = appointments.collection('appointments');
      await col.deleteMany({});
      const docs = Array.from({ length: 23 }, (_, i) => ({
        _id: new Types.ObjectId(),
        localDate: `2026-03-${String(1 + (i % 5)).padStart(2, '0')}`,
        doctorId: `d${i % 2}`,
        specialty: 'Cardiology',
        status: i % 3 ? 'SCHEDULED' : 'COMPLETED',
        patientId: `p${i % 4}`,
        conditions: i % 3 ? [] : ['Flu'],
        outboxSeq: 1 + (i % 2),
      }));
      await col.insertMany(docs);
      const folder = new Folder(models, queue, claims, 4);
      const backfill = new Backfill(appointments, cfg, folder, models.Run, 5);
      expect(await backfill.done()).toBe(false);
      const first = await backfill.run();
      expect(first.changes).toBe(23);
      expect(await backfill.done()).toBe(true);
      expect(await queue.count()).toBe(0);
      const expected: Record<string, number> = {};
      for (const d of docs) expected[`${d.localDate}|${d.doctorId}|${d.status}`] = (expected[`${d.localDate}|${d.doctorId}|${d.status}`] ?? 0) + 1;
      expect(await dayCounts()).toEqual(expected);
      // Again (e.g. after a restore, or a run stopped halfway): the same states count nothing.
      await backfill.run();
      expect(await dayCounts()).toEqual(expected);
      expect(await models.Facts.countDocuments()).toBe(23);
    } finally {
      await appointments.close();
    }
  });
});

describe('ranges as months and edge days', () => {
  it('splits a range into whole months and the days of partial months', () => {
    expect(monthsAndEdgeDays({ from: '2026-02-27', to: '2026-04-02' })).toEqual({ months: ['2026-03'], days: ['2026-02-27', '2026-02-28', '2026-04-01', '2026-04-02'] });
    expect(monthsAndEdgeDays({ from: '2026-03-01', to: '2026-03-31' })).toEqual({ months: ['2026-03'], days: [] });
    expect(monthsAndEdgeDays({ from: '2026-03-05', to: '2026-03-05' })).toEqual({ months: [], days: ['2026-03-05'] });
    expect(monthsAndEdgeDays({ from: '2025-12-31', to: '2026-02-01' })).toEqual({ months: ['2026-01'], days: ['2025-12-31', '2026-02-01'] });
  });
});
