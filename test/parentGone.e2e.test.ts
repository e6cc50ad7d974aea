import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { waitFor } from './helpers';

/**
 * The services and the embedded database that a test run, a benchmark or `npm start` starts stop
 * by themselves when that parent dies without stopping them (SIGKILL leaves it no chance):
 * platform/processExit.ts `exitWithParent`. Here a parent process starts the database and a
 * subgraph the way the tests do, reports their process ids and is then killed.
 */

/** Running and not a zombie (a child whose parent died may wait a moment to be reaped). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = `/proc/${pid}/stat`;
  if (!existsSync(stat)) return true;
  try {
    // "<pid> (<comm>) <state> …": the state follows the last ')'.
    const text = readFileSync(stat, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2, text.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false; // gone while reading
  }
}

const ROOT = path.join(__dirname, '..');
let parent: ChildProcess | null = null;
let started: number[] = [];
let dataDir = '';

afterAll(() => {
  // Whatever the outcome: nothing this test started stays behind.
  parent?.kill('SIGKILL');
  for (const pid of started) if (alive(pid)) process.kill(pid, 'SIGKILL');
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

it('stops the database and a subgraph when the process that started them is killed', async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'healthsync-parent-gone-'));
  const code = [
    `const { startDatabase } = require(${JSON.stringify(path.join(ROOT, 'scripts', 'db.ts'))});`,
    `const { spawnService } = require(${JSON.stringify(path.join(ROOT, 'test', 'serviceProcess.ts'))});`,
    `(async () => {`,
    `  const db = await startDatabase({ embedded: true, port: 0, dataDir: ${JSON.stringify(dataDir)}, log: () => undefined });`,
    `  const doctors = spawnService('doctors', { MONGODB_URI: db.uri, DB_PREFIX: 'parentgone' });`,
    `  while (!doctors.url) { if (doctors.proc.exitCode !== null) throw new Error('doctors exited'); await new Promise((r) => setTimeout(r, 50)); }`,
    `  console.log(JSON.stringify({ db: db.pid, doctors: doctors.proc.pid }));`,
    `})().catch((err) => { console.error(err); process.exit(1); });`,
  ].join('\n');
  parent = spawn(process.execPath, ['--import', 'tsx', '-e', code], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const report = await new Promise<{ db: number; doctors: number }>((resolve, reject) => {
    createInterface({ input: parent!.stdout! }).on('line', (line) => {
      if (line.startsWith('{"db"')) resolve(JSON.parse(line) as { db: number; doctors: number });
    });
    parent!.once('exit', (c) => reject(new Error(`the parent exited (${c}) before its children were ready`)));
  });
  started = [report.db, report.doctors];
  expect(started.every(alive)).toBe(true);

  parent.kill('SIGKILL');
  // The database shuts down cleanly (SIGTERM's path) and the subgraph closes its connections first.
  await waitFor(async () => !alive(report.doctors) && !alive(report.db), 60_000);
}, 180_000);
