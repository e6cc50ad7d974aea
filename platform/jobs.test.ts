import type { Agenda } from 'agenda';
import { Types, type Connection } from 'mongoose';
import { dropTestDatabases, openDb, silentLog, testConfig, waitFor } from '../test/helpers';
import type { Config } from './config';
import { JOBS_DB, PURGE_FINISHED_JOB, purgeFinishedJobs, startAgenda, stopAgenda, type Job } from './jobs';


/** Finished one-off jobs are purged after the retention time; nothing that still runs is. */
let cfg: Config;
let agenda: Agenda;
let jobsDb: Connection;
const ran: string[] = [];

beforeAll(async () => {
  cfg = testConfig();
  agenda = await startAgenda(cfg, 'jobtest', silentLog, (a) => {
    a.define('jobtest.once', async (job: Job) => {
      ran.push(String(job.attrs.data.n));
    });
  }, { purgeFinished: true });
  jobsDb = await openDb(cfg, JOBS_DB);
});
afterAll(async () => {
  await stopAgenda(agenda);
  await jobsDb.close();
  await dropTestDatabases(cfg, [JOBS_DB]);
});

const jobs = () => jobsDb.collection('agendaJobs');
const HOUR = 3_600_000;

describe('purging finished jobs', () => {
  it('deletes one-off jobs finished before the retention window, keeps everything else', async () => {
    const old = await agenda.now('jobtest.once', { n: 'old' });
    const recent = await agenda.now('jobtest.once', { n: 'recent' });
    const later = await agenda.schedule(new Date(Date.now() + 24 * HOUR), 'jobtest.once', { n: 'later' });
    await waitFor(async () => ran.includes('old') && ran.includes('recent'), 10_000);
    await waitFor(async () => (await jobs().countDocuments({ name: 'jobtest.once', lastFinishedAt: { $ne: null } })) === 2, 10_000);
    // The "old" job finished four days ago (a fixture: nothing else writes a finished job).
    // (Agenda's ObjectId comes from another driver copy: pass it on as a fresh one.)
    await jobs().updateOne({ _id: new Types.ObjectId(String(old.attrs._id)) }, { $set: { lastFinishedAt: new Date(Date.now() - 96 * HOUR) } });

    expect(await purgeFinishedJobs(agenda, 72 * HOUR)).toBe(1);

    const left = await jobs().find({}, { projection: { name: 1, 'data.n': 1 } }).toArray();
    const ids = left.map((j) => String(j._id));
    expect(ids).not.toContain(String(old.attrs._id));
    expect(ids).toContain(String(recent.attrs._id));
    expect(ids).toContain(String(later.attrs._id)); // still to run
    expect(left.map((j) => j.name)).toContain(PURGE_FINISHED_JOB); // recurring: has a next run
    // Nothing is left to purge now; a second run deletes nothing.
    expect(await purgeFinishedJobs(agenda, 72 * HOUR)).toBe(0);
  });
});

describe('a jobs database made by an earlier version', () => {
  it('starts on the lock index Agenda created with its default sort (same name, same keys)', async () => {
    const oldCfg = testConfig({ DB_PREFIX: `${testConfig().DB_PREFIX}_oldidx` });
    const db = await openDb(oldCfg, JOBS_DB);
    try {
      // What Agenda 5 made with its default sort ({ nextRunAt: 1, priority: -1 }).
      await db.collection('agendaJobs').createIndex({ name: 1, nextRunAt: 1, priority: -1, lockedAt: 1, disabled: 1 }, { name: 'findAndLockNextJobIndex' });
      const older = await startAgenda(oldCfg, 'oldidx', silentLog, () => undefined);
      await stopAgenda(older);
      const indexes = await db.collection('agendaJobs').indexes();
      expect(indexes.find((i) => i.name === 'findAndLockNextJobIndex')?.key).toEqual({ name: 1, nextRunAt: 1, priority: -1, lockedAt: 1, disabled: 1 });
    } finally {
      await db.close();
      await dropTestDatabases(oldCfg, [JOBS_DB]);
    }
  });
});
