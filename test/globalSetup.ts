import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startDatabase, type Database } from '../scripts/db';

/**
 * One MongoDB-wire server for the whole run: MONGODB_URI when set (e.g. a real MongoDB 7),
 * otherwise the embedded FerretDB on a free port with its files in a throwaway folder.
 * Each test file uses its own databases (see test/helpers.ts).
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.MONGODB_URI) return;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'healthsync-test-db-'));
  const db = await startDatabase({ port: 0, dataDir });
  process.env.MONGODB_URI = db.uri;
  process.env.HEALTHSYNC_TEST_DB_DIR = dataDir;
  (globalThis as { __healthsyncDb?: Database }).__healthsyncDb = db;
}
