import type { Agenda } from 'agenda';
import type { Connection } from 'mongoose';
import { dropTestDatabases, openDb, silentLog, testConfig, waitFor } from '../test/helpers';
import type { Config } from './config';
import { JOBS_DB, removeDone, startAgenda, stopAgenda, type Job } from './jobs';

/**
 * A process polls the jobs collection with one query per round (platform/jobPoll.ts), not with
 * one lock query per job name; due work of any name still runs.
 */
const NAMES = ['polltest.a', 'polltest.b', 'polltest.c', 'polltest.d', 'polltest.e', 'polltest.f'];
let cfg: Config;
let agenda: Agenda;
let jobsDb: Connection;
const ran: string[] = [];

beforeAll(async () => {
  cfg = testConfig({ DB_PREFIX: `${testConfig().DB_PREFIX}_poll` });
  agenda = await startAgenda(cfg, 'polltest', silentLog, (a) => {
    for (const name of NAMES) {
      a.define(name, async (job: Job) => {
        ran.push(`${name}:${String(job.attrs.data.n)}`);
      });
    }
    a.define('polltest.once', async (job: Job) => {
      ran.push(`polltest.once:${String(job.attrs.data.n)}`);
      await removeDone(job);
    });
  });
  jobsDb = await openDb(cfg, JOBS_DB);
});
afterAll(async () => {
  await stopAgenda(agenda);
  await jobsDb.close();
  await dropTestDatabases(cfg, [JOBS_DB]);
});

describe('polling for due jobs', () => {
  it('costs one read per round while idle and locks only names with due work', async () => {
    const probes = jest.spyOn(agenda._collection, 'distinct');
    const locks = jest.spyOn(agenda._collection, 'findOneAndUpdate');
    try {
      await waitFor(async () => probes.mock.calls.length >= 5, 20_000);
      // Five rounds with six names and nothing due: no lock query at all (Agenda alone: 30).
      expect(locks).not.toHaveBeenCalled();

      // Work saved by another process (written straight into the collection) runs on a later round.
      await jobsDb.collection('agendaJobs').insertOne({ name: 'polltest.c', type: 'normal', priority: 0, data: { n: 1 }, nextRunAt: new Date(), lockedAt: null });
      await waitFor(async () => ran.includes('polltest.c:1'), 20_000);
      const lockedNames = new Set(locks.mock.calls.map(([filter]) => JSON.stringify(filter).match(/"name":"([^"]+)"/)?.[1]));
      expect([...lockedNames]).toEqual(['polltest.c']);
    } finally {
      probes.mockRestore();
      locks.mockRestore();
    }
  });
});

describe('a one-off job', () => {
  it('is locked and deleted, with no save when its run starts or after it was deleted', async () => {
    const writes = jest.spyOn(agenda._collection, 'findOneAndUpdate');
    try {
      const { insertedId } = await jobsDb.collection('agendaJobs').insertOne({ name: 'polltest.once', type: 'normal', priority: 0, data: { n: 7 }, nextRunAt: new Date(), lockedAt: null });
      await waitFor(async () => ran.includes('polltest.once:7') && (await jobsDb.collection('agendaJobs').countDocuments({ _id: insertedId })) === 0, 20_000);
      // Give Agenda's completion (where its final save would run) its turn before counting.
      await waitFor(async () => agenda._runningJobs.length === 0, 5_000);
      // Agenda saves a job by its `_id`; the lock queries go by name.
      const saves = writes.mock.calls.filter(([filter]) => JSON.stringify(filter).includes(String(insertedId)));
      expect(saves).toHaveLength(0);
      expect(writes.mock.calls.some(([filter]) => JSON.stringify(filter).includes('polltest.once'))).toBe(true);
    } finally {
      writes.mockRestore();
    }
  });
});

describe('a backlog written by another process', () => {
  let slow: Agenda;
  let slowCfg: Config;
  const done: number[] = [];
  beforeAll(async () => {
    // A round a minute: only refills after finished jobs can run the backlog sooner.
    slowCfg = testConfig({ DB_PREFIX: `${testConfig().DB_PREFIX}_backlog`, JOBS_PROCESS_EVERY_MS: '60000' });
    slow = await startAgenda(slowCfg, 'backlogtest', silentLog, (a) => {
      a.define('backlog.kick', async () => undefined);
      a.define('backlog.item', async (job: Job) => {
        done.push(Number(job.attrs.data.n));
      });
    });
  });
  afterAll(async () => {
    await stopAgenda(slow);
    await dropTestDatabases(slowCfg, [JOBS_DB]);
  });

  it('drains as fast as the jobs run, not lockLimit jobs per round', async () => {
    const db = await openDb(slowCfg, JOBS_DB);
    try {
      await db.collection('agendaJobs').insertMany(
        Array.from({ length: 30 }, (_, n) => ({ name: 'backlog.item', type: 'normal', priority: 0, data: { n }, nextRunAt: new Date(), lockedAt: null })),
      );
      // A job of this process finishes: from then on, every finished job makes room for the next.
      await slow.now('backlog.kick', {});
      // Agenda alone would run the 30 at the next round, a minute from now, five at a time.
      await waitFor(async () => done.length >= 30, 30_000);
      expect([...done].sort((x, y) => x - y)).toEqual([...Array(30).keys()]);
    } finally {
      await db.close();
    }
  }, 60_000);
});
