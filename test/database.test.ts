import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mongoose from 'mongoose';
import { startDatabase } from '../scripts/db';

// The embedded server is what `npm start` uses when MONGODB_URI is not set: data must survive a
// restart. Skipped when the run uses an external server (MONGODB_URI given to `npm test`).
const embedded = process.env.HEALTHSYNC_TEST_DB_DIR ? describe : describe.skip;

embedded('embedded FerretDB', () => {
  const saved = process.env.MONGODB_URI;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'healthsync-restart-'));
  beforeAll(() => delete process.env.MONGODB_URI);
  afterAll(() => {
    process.env.MONGODB_URI = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps data across a stop and a start on the same folder', async () => {
    const first = await startDatabase({ port: 0, dataDir: dir });
    const c1 = await mongoose.createConnection(first.uri, { dbName: 'healthsync_restart' }).asPromise();
    await c1.db!.collection('things').insertOne({ name: 'kept' });
    await c1.close();
    await first.stop();

    const second = await startDatabase({ port: 0, dataDir: dir });
    const c2 = await mongoose.createConnection(second.uri, { dbName: 'healthsync_restart' }).asPromise();
    const found = await c2.db!.collection('things').findOne({ name: 'kept' });
    await c2.close();
    await second.stop();
    expect(found?.name).toBe('kept');
  });
});
