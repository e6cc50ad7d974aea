import { spawn } from 'node:child_process';
import path from 'node:path';
import mongoose, { type Connection } from 'mongoose';
import type { Config } from './config';
import { dropTestDatabases, openDb, silentLog, testConfig } from '../test/helpers';
import { EVENTS_DB, Publisher, Subscriber, type LiveEvent } from './pubsub';
import { dbName } from './config';

const SMALL_EVENTS_DB = 'events_small';
const GAP_EVENTS_DB = 'events_gap';
let cfg: Config;
let a: Connection;
let b: Connection;
beforeAll(async () => {
  cfg = testConfig();
  a = await openDb(cfg, 'pubA');
  b = await openDb(cfg, 'pubB');
});
afterAll(async () => {
  await a.close();
  await b.close();
  await dropTestDatabases(cfg, [EVENTS_DB, SMALL_EVENTS_DB, GAP_EVENTS_DB]);
});

const waitFor = async (cond: () => boolean, ms = 3000) => {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
};

describe('live events through a capped collection', () => {
  it('delivers what is published after subscribing to every subscriber, by topic, in order', async () => {
    const pub = await Publisher.open(a, dbName(cfg, EVENTS_DB));
    await pub.publish('t1', { n: 0 }); // before anyone listens: not delivered
    const s1 = await Subscriber.open(a, dbName(cfg, EVENTS_DB), silentLog);
    const s2 = await Subscriber.open(b, dbName(cfg, EVENTS_DB), silentLog);
    const got1: LiveEvent[] = [];
    const got2: LiveEvent[] = [];
    s1.on('t1', (e) => got1.push(e));
    s2.on('t1', (e) => got2.push(e));
    s2.on('t2', (e) => got2.push(e));
    for (let n = 1; n <= 3; n++) await pub.publish('t1', { n });
    await pub.publish('t2', { n: 9 });
    await waitFor(() => got1.length >= 3 && got2.length >= 4);
    expect(got1.map((e) => e.data.n)).toEqual([1, 2, 3]);
    expect(got2.map((e) => e.data.n)).toEqual([1, 2, 3, 9]);
    await s1.close();
    await s2.close();
  });

  it('never stores an event behind the stream after the numbers a quiet publisher knew have fallen out of it', async () => {
    const db = dbName(cfg, SMALL_EVENTS_DB);
    let now = Date.now();
    const quiet = await Publisher.open(a, db, { maxEvents: 10, clock: () => now });
    const busy = await Publisher.open(b, db, { maxEvents: 10 });
    const stream = a.useDb(db, { useCache: true }).db!.collection<LiveEvent>('live_stream');
    await quiet.publish('t', { n: 'first' });
    for (let n = 0; n < 25; n++) await busy.publish('t', { n });
    // MongoDB drops the oldest events as new ones come; the embedded FerretDB in its cleanup, which `compact` runs now.
    await stream.db.command({ compact: 'live_stream' }).catch(() => undefined);
    const kept = (await stream.find({}, { projection: { _id: 1 } }).toArray()).map((e) => e._id);
    expect(kept).not.toContain(2); // the number after the quiet publisher's event is free again

    now += 60_000; // a minute later (its own clock): the quiet publisher publishes again
    await quiet.publish('t', { n: 'late' });
    const late = await stream.findOne({ 'data.n': 'late' });
    expect(late?._id).toBe(Math.max(...kept) + 1);

    // A reader that had seen everything before it gets the late event.
    const sub = await Subscriber.open(b, db, silentLog);
    expect(sub.position).toBe(late?._id); // found from the oldest kept by `_id` lookups
    const got: LiveEvent[] = [];
    sub.on('t', (e) => got.push(e));
    await busy.publish('t', { n: 'after' });
    await quiet.publish('t', { n: 'last' });
    await waitFor(() => got.length >= 2);
    await sub.close();
    expect(got.map((e) => e.data.n)).toEqual(['after', 'last']);
  });

  it('goes on from the oldest kept event, and says so, when the events after its last one fell out of the stream', async () => {
    const db = dbName(cfg, GAP_EVENTS_DB);
    const pub = await Publisher.open(a, db, { maxEvents: 10 });
    const stream = a.useDb(db, { useCache: true }).db!.collection<LiveEvent>('live_stream');
    await pub.publish('g', { n: 0 });
    // A slow reader: it polls only when asked, and checks for a gap whenever a poll finds nothing.
    const sub = await Subscriber.open(b, db, silentLog, { pollMs: 600_000, gapCheckMs: 0 });
    let gaps = 0;
    sub.onGap(() => gaps++);
    const got: LiveEvent[] = [];
    sub.on('g', (e) => got.push(e));
    await sub.catchUp();
    expect(gaps).toBe(0); // caught up: its last event is still stored

    for (let n = 1; n <= 60; n++) await pub.publish('g', { n });
    await stream.db.command({ compact: 'live_stream' }).catch(() => undefined);
    const kept = (await stream.find({}, { projection: { _id: 1 } }).toArray()).map((e) => e._id).sort((x, y) => x - y);
    expect(kept[0]).toBeGreaterThan(sub.position + 32); // more fell out than one poll asks for

    await sub.catchUp(); // finds nothing after its last event, sees that event gone: a gap
    await sub.catchUp();
    await sub.close();
    expect(gaps).toBe(1);
    expect(got.map((e) => e._id)).toEqual(kept);
  });

  it('a catch-up as of a moment needs no read once a read that began after it reached the end; a later moment reads again', async () => {
    const db = dbName(cfg, EVENTS_DB);
    const pub = await Publisher.open(a, db);
    // A reader that polls only when asked.
    const sub = await Subscriber.open(b, db, silentLog, { pollMs: 600_000 });
    const got: LiveEvent[] = [];
    sub.on('asof', (e) => got.push(e));
    const requestBegan = performance.now();
    await sub.catchUp(); // a read that began after requestBegan and reached the end
    await pub.publish('asof', { n: 1 });
    // Published after the request began: that request need not see it, and no read is made for it.
    await sub.catchUp(requestBegan);
    expect(got).toHaveLength(0);
    // A request that began after the publish sees it.
    await sub.catchUp(performance.now());
    expect(got.map((e) => e.data.n)).toEqual([1]);
    await sub.close();
  });

  it('stores the events published while its insert runs with one more insert, in the order they were published', async () => {
    const db = dbName(cfg, EVENTS_DB);
    const watched = await mongoose.createConnection(cfg.MONGODB_URI!, { monitorCommands: true }).asPromise();
    const inserts: number[] = [];
    watched.getClient().on('commandStarted', (e) => {
      if (e.commandName === 'insert' && e.databaseName === db) inserts.push((e.command.documents as unknown[]).length);
    });
    const sub = await Subscriber.open(b, db, silentLog);
    try {
      const pub = await Publisher.open(watched, db);
      const got: LiveEvent[] = [];
      sub.on('burst', (e) => got.push(e));
      // 50 at once, as 20 delivery jobs and a booking burst publish: the first goes alone, the 49 that wait for it in one insert.
      await Promise.all(Array.from({ length: 50 }, (_v, n) => pub.publish('burst', { n })));
      expect(inserts).toEqual([1, 49]);
      await waitFor(() => got.length >= 50);
      expect(got.map((e) => e.data.n)).toEqual([...Array(50).keys()]);
      const seqs = got.map((e) => e._id);
      expect(seqs).toEqual(Array.from({ length: 50 }, (_v, i) => seqs[0] + i));
    } finally {
      await sub.close();
      await watched.close();
    }
  });

  it('loses no event when three processes publish at once, and hands each on once, in stream order', async () => {
    const db = dbName(cfg, EVENTS_DB);
    const sub = await Subscriber.open(b, db, silentLog);
    const got: LiveEvent[] = [];
    sub.on('race', (e) => got.push(e));
    const PER_PROCESS = 150;
    const publishers = ['p1', 'p2', 'p3'].map(
      (name) =>
        new Promise<number | null>((resolve, reject) => {
          const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '..', 'test', 'fixtures', 'publishEvents.ts'), cfg.MONGODB_URI!, db, name, String(PER_PROCESS)], {
            stdio: ['ignore', 'ignore', 'inherit'],
          });
          child.once('error', reject);
          child.once('exit', resolve);
        }),
    );
    expect(await Promise.all(publishers)).toEqual([0, 0, 0]);
    await waitFor(() => got.length >= 3 * PER_PROCESS, 60_000);
    await sub.close();

    expect(got).toHaveLength(3 * PER_PROCESS);
    const seqs = got.map((e) => e._id);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    expect(new Set(seqs).size).toBe(seqs.length);
    for (const name of ['p1', 'p2', 'p3']) {
      expect(got.filter((e) => e.data.publisher === name).map((e) => e.data.n).sort((x, y) => Number(x) - Number(y))).toEqual([...Array(PER_PROCESS).keys()]);
    }
  }, 120_000);
});
