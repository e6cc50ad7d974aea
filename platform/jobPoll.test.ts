import type { Agenda } from 'agenda';
import type { Connection } from 'mongoose';
import { dropTestDatabases, openDb, silentLog, testConfig, waitFor } from '../test/helpers';
import type { Config } from './config';
import { JOBS_DB, startAgenda, stopAgenda, type Job } from './jobs';

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
