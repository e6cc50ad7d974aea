import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mongoose from 'mongoose';
import { spawnSync } from 'node:child_process';
import { startDatabase, syncEveryMs } from '../scripts/db';

// The embedded server is what `npm start` uses when MONGODB_URI is not set: data must survive a
// restart. Skipped when the run uses an external server (MONGODB_URI given to `npm test`).
const embedded = process.env.HEALTHSYNC_TEST_DB_DIR ? describe : describe.skip;

embedded('embedded FerretDB', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'healthsync-restart-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps data across a stop and a start on the same folder', async () => {
    const first = await startDatabase({ port: 0, dataDir: dir, embedded: true });
    const c1 = await mongoose.createConnection(first.uri, { dbName: 'healthsync_restart' }).asPromise();
    await c1.db!.collection('things').insertOne({ name: 'kept' });
    await c1.close();
    await first.stop();

    const second = await startDatabase({ port: 0, dataDir: dir, embedded: true });
    const c2 = await mongoose.createConnection(second.uri, { dbName: 'healthsync_restart' }).asPromise();
    const found = await c2.db!.collection('things').findOne({ name: 'kept' });
    await c2.close();
    await second.stop();
    expect(found?.name).toBe('kept');
  });

  it('keeps every acknowledged write when the database process is killed (SIGKILL) right after it, with commits made durable on a timer (DB_SYNC_MS)', async () => {
    const first = await startDatabase({ port: 0, dataDir: dir, embedded: true });
    const c1 = await mongoose.createConnection(first.uri, { dbName: 'healthsync_crash' }).asPromise();
    const things = c1.db!.collection<{ _id: number }>('things');
    // 20 writers, as services would send them; each insert acknowledged on its own.
    let next = 0;
    await Promise.all(Array.from({ length: 20 }, async () => {
      while (next < 400) await things.insertOne({ _id: next++ });
    }));
    await first.kill(); // no checkpoint, no close: what the operating system has of the files is all there is
    await c1.close().catch(() => undefined);

    const second = await startDatabase({ port: 0, dataDir: dir, embedded: true });
    const c2 = await mongoose.createConnection(second.uri, { dbName: 'healthsync_crash' }).asPromise();
    const ids = (await c2.db!.collection<{ _id: number }>('things').find().toArray()).map((d) => d._id).sort((a, b) => a - b);
    await c2.close();
    await second.stop();
    expect(ids).toEqual(Array.from({ length: 400 }, (_v, i) => i));
  });

  it('finds, updates and deletes by _id through the _id index, not a table scan (scripts/ferretdb/patch.ts)', async () => {
    const db = await startDatabase({ port: 0, dataDir: dir, embedded: true });
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
  it('runs findAndModify calls on one collection one at a time: a conditional lock has one winner (scripts/ferretdb/overlay)', async () => {
    const db = await startDatabase({ port: 0, dataDir: dir, embedded: true });
    // Several connections, as several workers would have.
    const conns = await Promise.all([0, 1, 2, 3].map(() => mongoose.createConnection(db.uri, { dbName: 'healthsync_fam', maxPoolSize: 10 }).asPromise()));
    try {
      const jobs = (i: number) => conns[i % conns.length].db!.collection<{ _id: string; lockedAt: Date | null; by?: number }>('jobs');
      for (let round = 0; round < 5; round++) {
        await jobs(0).insertOne({ _id: `job${round}`, lockedAt: null });
        const won = await Promise.all(
          Array.from({ length: 40 }, (_, i) => jobs(i).findOneAndUpdate({ _id: `job${round}`, lockedAt: null }, { $set: { lockedAt: new Date(), by: i } }, { returnDocument: 'after' })),
        );
        const winners = won.filter((d) => d !== null);
        expect(winners).toHaveLength(1);
        expect((await jobs(0).findOne({ _id: `job${round}` }))?.by).toBe(winners[0]!.by);
      }
    } finally {
      await Promise.all(conns.map((c) => c.close()));
      await db.stop();
    }
  });

  it('serves equality on indexed fields from SQLite indexes, with MongoDB results (scripts/ferretdb/overlay)', async () => {
    const db = await startDatabase({ port: 0, dataDir: dir, embedded: true });
    const conn = await mongoose.createConnection(db.uri, { dbName: 'healthsync_pushdown' }).asPromise();
    try {
      const things = conn.db!.collection<{ _id: string } & Record<string, unknown>>('things');
      await things.createIndex({ owner: 1 });
      await things.createIndex({ doctorId: 1, start: 1 });
      const oid = new mongoose.Types.ObjectId();
      await things.insertMany([
        { _id: 'a', owner: 'ann', tags: ['x', 'y'], done: true, ref: oid, n: 1 },
        { _id: 'b', owner: 'bob', tags: 'x', done: false, n: 2 },
        { _id: 'c', owner: ['ann', 'cid'], tags: [], done: true, n: 3 },
        { _id: 'd', owner: 'a<b>&"q"\\', tags: ['z'], n: 4 },
        { _id: 'e', owner: 'Zoë', n: 5, doctorId: 'd1', start: 1 },
        { _id: 'f', n: 6 },
        // Arrays are searched for the value's text: an element that merely contains it is not one.
        { _id: 'g', owner: ['annie', 'x-ann'], ref: [new mongoose.Types.ObjectId(), oid], n: 7 },
      ]);
      const ids = async (filter: Record<string, unknown>) => (await things.find(filter, { sort: { _id: 1 } }).toArray()).map((d) => d._id);
      // Scalars and arrays holding the value match, as in MongoDB.
      expect(await ids({ owner: 'ann' })).toEqual(['a', 'c']);
      expect(await ids({ tags: 'x' })).toEqual(['a', 'b']);
      expect(await ids({ owner: { $in: ['bob', 'cid'] } })).toEqual(['b', 'c']);
      expect(await ids({ owner: { $eq: 'bob' }, done: false })).toEqual(['b']);
      expect(await ids({ done: true })).toEqual(['a', 'c']);
      expect(await ids({ ref: oid })).toEqual(['a', 'g']);
      expect(await ids({ owner: { $in: ['annie', 'cid'] } })).toEqual(['c', 'g']);
      expect(await ids({ $and: [{ owner: 'ann' }, { n: { $gt: 1 } }] })).toEqual(['c']);
      expect(await ids({ _id: { $in: ['a', 'f', 'zz'] }, n: { $lt: 6 } })).toEqual(['a']);
      // Values left to FerretDB's own filter: characters JSON may escape, non-ASCII, numbers, null.
      expect(await ids({ owner: 'a<b>&"q"\\' })).toEqual(['d']);
      expect(await ids({ owner: 'Zoë' })).toEqual(['e']);
      expect(await ids({ n: 2 })).toEqual(['b']);
      expect(await ids({ owner: null })).toEqual(['f']);
      expect(await ids({ owner: 'ann', n: 3 })).toEqual(['c']);
      expect(await things.countDocuments({ owner: 'ann' })).toBe(2);
      await things.updateMany({ owner: 'ann' }, { $set: { seen: true } });
      expect(await ids({ seen: true })).toEqual(['a', 'c']);
      await things.deleteMany({ tags: 'x' });
      expect(await ids({})).toEqual(['c', 'd', 'e', 'f', 'g']);

      const plan = (filter: Record<string, unknown>) => conn.db!.command({ explain: { find: 'things', filter } }).then((r) => JSON.stringify(r));
      expect(await plan({ owner: 'ann', n: { $gt: 1 } })).toMatch(/SEARCH \S+ USING INDEX \S+_owner_1/);
      expect(await plan({ doctorId: 'd1' })).toMatch(/SEARCH \S+ USING INDEX \S+_doctorId_1_start_1/);
      expect(await plan({ n: 1 })).toMatch(/SCAN/);

      // Integers: int32, int64 and integral doubles are one value in MongoDB and one text in SQLite.
      const { Double, Long } = mongoose.mongo;
      const nums = conn.db!.collection<{ _id: unknown; v?: unknown }>('nums');
      await nums.createIndex({ v: 1 });
      await nums.insertMany([
        { _id: 1, v: 7 },
        { _id: new Double(2.5), v: new Double(7) },
        { _id: Long.fromNumber(3), v: [1, 7] },
        { _id: new Double(4), v: '7' },
        { _id: 5, v: 0 },
        { _id: 6, v: new Double(-0) },
        { _id: 7, v: new Double(7.5) },
        { _id: 8, v: Long.fromNumber(-7) },
        { _id: 10, v: [new Double(7), Long.fromNumber(-7), 'x'] },
      ]);
      const numIds = async (filter: Record<string, unknown>) => (await nums.find(filter).toArray()).map((d) => Number(d._id)).sort((a, b) => a - b);
      expect(await numIds({ _id: 3 })).toEqual([3]);
      expect(await numIds({ _id: new Double(3) })).toEqual([3]);
      expect(await numIds({ _id: { $in: [1, 4, 9] } })).toEqual([1, 4]);
      expect(await numIds({ _id: 2.5 })).toEqual([2.5]);
      expect(await numIds({ v: 7 })).toEqual([1, 2.5, 3, 10]);
      expect(await numIds({ v: Long.fromNumber(7) })).toEqual([1, 2.5, 3, 10]);
      expect(await numIds({ v: -7 })).toEqual([8, 10]);
      expect(await numIds({ v: 0 })).toEqual([5, 6]);
      expect(await numIds({ v: { $in: [7.5, 1] } })).toEqual([3, 7]);
      const numPlan = (filter: Record<string, unknown>) => conn.db!.command({ explain: { find: 'nums', filter } }).then((r) => JSON.stringify(r));
      expect(await numPlan({ _id: { $in: [1, 2] } })).toMatch(/SEARCH \S+ USING INDEX \S+__id_/);
      expect(await numPlan({ v: 7 })).toMatch(/SEARCH \S+ USING INDEX \S+_v_1/);
    } finally {
      await conn.close();
      await db.stop();
    }
  });
});

describe('DB_SYNC_MS (scripts/db.ts)', () => {
  it('defaults to MongoDB\'s journal interval, takes 0 for a sync at every commit and refuses anything else', () => {
    expect(syncEveryMs({})).toBe(100);
    expect(syncEveryMs({ DB_SYNC_MS: '' })).toBe(100);
    expect(syncEveryMs({ DB_SYNC_MS: '0' })).toBe(0);
    expect(syncEveryMs({ DB_SYNC_MS: ' 250 ' })).toBe(250);
    for (const bad of ['-1', '1.5', 'fast', '60001']) expect(() => syncEveryMs({ DB_SYNC_MS: bad })).toThrow(/DB_SYNC_MS must be a whole number/);
  });
});

// The group commit's own test (scripts/ferretdb/walsync): Go is there wherever the embedded server is built.
const withGo = spawnSync('go', ['version']).status === 0 ? describe : describe.skip;
withGo('group commit of the embedded server (scripts/ferretdb/walsync)', () => {
  it('fsyncs each write-ahead log that changed, once more after, and forgets dropped databases (go test)', () => {
    const run = spawnSync('go', ['test', '-count=1', './walsync/'], { cwd: path.join(__dirname, '..', 'scripts', 'ferretdb'), encoding: 'utf8' });
    expect(`${run.stdout}${run.stderr}`).toMatch(/^ok\s+healthsync\.local\/ferretdb\/walsync/m);
    expect(run.status).toBe(0);
  }, 120_000);
});
