import { rmSync } from 'node:fs';
import type { Database } from '../scripts/db';

export default async function globalTeardown(): Promise<void> {
  const db = (globalThis as { __healthsyncDb?: Database }).__healthsyncDb;
  await db?.stop();
  if (db && process.env.HEALTHSYNC_TEST_DB_DIR) {
    rmSync(process.env.HEALTHSYNC_TEST_DB_DIR, { recursive: true, force: true });
  }
}
