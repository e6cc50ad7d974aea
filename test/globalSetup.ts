import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ALL_SECRET_NAMES } from '../platform/config';
import { startDatabase, type Database } from '../scripts/db';
import { randomSecret } from '../scripts/secrets';
import { ensureWebBuild } from '../scripts/webBuild';

/**
 * One MongoDB-wire server for the whole run: MONGODB_URI when set (e.g. a real MongoDB 7),
 * otherwise the embedded FerretDB on a free port with its files in a throwaway folder.
 * Each test file uses its own databases (see test/helpers.ts).
 */
export default async function globalSetup(): Promise<void> {
  // The admin web app the browser tests drive, bundled when missing or stale.
  ensureWebBuild((line) => process.stdout.write(`${line}\n`));
  // Random secrets of this run, in the environment of every test worker and every process a test
  // starts (never a committed value: every process refuses those).
  for (const name of ALL_SECRET_NAMES) process.env[name] = randomSecret(name);
  if (process.env.MONGODB_URI) return;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'healthsync-test-db-'));
  const db = await startDatabase({ port: 0, dataDir });
  process.env.MONGODB_URI = db.uri;
  process.env.HEALTHSYNC_TEST_DB_DIR = dataDir;
  (globalThis as { __healthsyncDb?: Database }).__healthsyncDb = db;
}
