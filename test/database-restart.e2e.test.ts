import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startDatabase, type Database } from '../scripts/db';
import { portOf, waitFor } from './helpers';
import { spawnService, type ServiceProcess } from './serviceProcess';

/**
 * The database is killed (SIGKILL) and restarted under running services whose jobs and relays poll
 * it all the time: every service stays up, says it is not ready while the database is gone, and is
 * ready again once it is back. Runs on the embedded FerretDB (it needs a server it can kill).
 */
const embedded = process.env.HEALTHSYNC_TEST_DB_DIR ? describe : describe.skip;
const SERVICES = ['appointments', 'medications', 'notifications'] as const;

function spawnRestartService(name: (typeof SERVICES)[number], uri: string): ServiceProcess {
  return spawnService(name, {
    NODE_ENV: 'test',
    MONGODB_URI: uri,
    DB_PREFIX: `restart_${process.pid}`,
    // Poll and sweep often, so jobs are sure to be running when the database goes away.
    JOBS_PROCESS_EVERY_MS: '100',
    OUTBOX_SWEEP_SECONDS: '1',
  });
}

async function readiness(s: ServiceProcess): Promise<number | null> {
  try {
    const res = await fetch(s.url!.replace(/\/graphql$/, '/ready'), { signal: AbortSignal.timeout(5_000) });
    return res.status;
  } catch {
    return null;
  }
}

embedded('services through a database restart', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'healthsync-db-restart-'));
  let db: Database | undefined;
  const services: ServiceProcess[] = [];

  afterAll(async () => {
    for (const s of services) s.proc.kill('SIGKILL');
    await db?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps every service running, not ready while the database is gone and ready once it is back', async () => {
    db = await startDatabase({ port: 0, dataDir: dir, embedded: true });
    const port = portOf(db);
    for (const name of SERVICES) services.push(spawnRestartService(name, db.uri));
    const lastWords = (s: ServiceProcess) => JSON.stringify(s.lines.filter((l) => Number(l.level) >= 40).slice(-3));
    const exits = services.map((s) => new Promise<string>((resolve) => s.proc.once('exit', (code, signal) => resolve(`${s.name} exited (${signal ?? code}): ${lastWords(s)}`))));
    const firstExit = Promise.race(exits);
    let exited: string | null = null;
    void firstExit.then((why) => (exited = why));
    const alive = () => {
      if (exited) throw new Error(exited);
    };

    await waitFor(async () => (alive(), services.every((s) => s.url)), 90_000);
    await waitFor(async () => (alive(), (await Promise.all(services.map(readiness))).every((s) => s === 200)), 30_000);

    // The database dies without warning, in the middle of the services' polling.
    await db.kill();
    await waitFor(async () => (alive(), (await Promise.all(services.map(readiness))).every((s) => s === 503)), 60_000);
    // Jobs keep polling meanwhile (every 100 ms); the next readiness probes see the outage out.
    await waitFor(async () => (alive(), (await Promise.all(services.map(readiness))).every((s) => s === 503)), 60_000);

    db = await startDatabase({ port, dataDir: dir, embedded: true });
    await waitFor(async () => (alive(), (await Promise.all(services.map(readiness))).every((s) => s === 200)), 90_000);
    expect(exited).toBeNull();
    expect(services.map((s) => s.proc.exitCode)).toEqual([null, null, null]);
  }, 300_000);
});
