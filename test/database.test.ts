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

  it('finds, updates and deletes by _id through the _id index, not a table scan (scripts/ferretdb/patch.ts)', async () => {
    const db = await startDatabase({ port: 0, dataDir: dir });
    const conn = await mongoose.createConnection(db.uri, { dbName: 'healthsync_idindex' }).asPromise();
    try {
      const things = conn.db!.collection<{ _id: string; n: number }>('things');
      await things.insertMany([{ _id: 'a', n: 1 }, { _id: 'b', n: 2 }]);
      // FerretDB answers explain with SQLite's query plan; every write by _id uses the same expression.
      const plan = JSON.stringify(await conn.db!.command({ explain: { find: 'things', filter: { _id: 'b' } } }));
      expect(plan).toMatch(/SEARCH \S+ USING INDEX \S+__id_/);
      await things.replaceOne({ _id: 'b' }, { n: 3 });
      await things.deleteOne({ _id: 'a' });
      expect(await things.find().toArray()).toEqual([{ _id: 'b', n: 3 }]);
    } finally {
      await conn.close();
      await db.stop();
    }
  });
});
