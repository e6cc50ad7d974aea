import dgram from 'node:dgram';
import type { Connection } from 'mongoose';
import type { Config } from './config';
import { dbName } from './config';
import { dropTestDatabases, openDb, silentLog, testConfig } from '../test/helpers';
import { DOORBELLS, type DoorbellDoc } from './doorbell';
import { Publisher, Subscriber, type LiveEvent } from './pubsub';

const BELLS_DB = 'events_bells';
/** Far beyond any wait below: an event that arrives arrived through the doorbell, not a poll. */
const NO_POLL_MS = 10 * 60_000;
let cfg: Config;
let conn: Connection;
beforeAll(async () => {
  cfg = testConfig();
  conn = await openDb(cfg, 'bells');
});
afterAll(async () => {
  await conn.close();
  await dropTestDatabases(cfg, [BELLS_DB]);
});

const waitFor = async (cond: () => boolean | Promise<boolean>, ms = 30_000) => {
  const end = Date.now() + ms;
  while (!(await cond()) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
};
const registered = () => conn.useDb(dbName(cfg, BELLS_DB), { useCache: true }).db!.collection<DoorbellDoc>(DOORBELLS).find({}).toArray();

/** A reader of topic `t` that would not poll for minutes, with its doorbell open, and that doorbell's registration. */
async function listeningReader() {
  const db = dbName(cfg, BELLS_DB);
  const reader = await Subscriber.open(conn, db, silentLog, { pollMs: NO_POLL_MS });
  const got: LiveEvent[] = [];
  reader.on('t', (e) => got.push(e));
  await reader.listenForBells('127.0.0.1');
  const [bell] = await registered();
  return { db, reader, got, bell: bell! };
}

/** With its doorbell open, `reader` (own pace 20 ms) polls slowly once rings bring events, and at 20 ms again after an unannounced event. */
async function slowsDownAndBack(reader: Subscriber, got: LiveEvent[], db: string): Promise<void> {
  expect(reader.currentPollMs).toBe(20);
  await reader.listenForBells('127.0.0.1');
  // No ring has found an event yet: the doorbell is not known to work.
  expect(reader.currentPollMs).toBe(20);
  const pub = await Publisher.open(conn, db);
  for (let n = 0; reader.currentPollMs === 20 && n < 100; n++) {
    await pub.publish('t', { n });
    await waitFor(() => got.length > n, 1_000);
  }
  expect(reader.currentPollMs).toBeGreaterThan(20);

  // An event whose ring never comes (stored as a publisher that does not ring would store it): a poll finds it.
  const before = got.length;
  await conn.useDb(db, { useCache: true }).db!.collection('live_stream').insertOne({ _id: reader.position + 1, topic: 't', at: new Date(), data: { n: 'unannounced' } } as never);
  await waitFor(() => got.length > before);
  expect(got.slice(before).map((e) => e.data.n)).toEqual(['unannounced']);
  // No ring follows it: the reader goes back to its own pace.
  await waitFor(() => reader.currentPollMs === 20);
  expect(reader.currentPollMs).toBe(20);
}

describe('live-event doorbells', () => {
  it('wakes a reader that would not poll for minutes as soon as an event is stored, and only while it listens', async () => {
    const { db, reader, got, bell } = await listeningReader();
    expect(bell).toMatchObject({ host: '127.0.0.1', port: expect.any(Number) });

    const pub = await Publisher.open(conn, db);
    // A publisher reads the doorbells in the background (its first event may find none yet): keep
    // publishing until one arrives, then once more and that one too.
    for (let n = 0; got.length === 0 && n < 100; n++) {
      await pub.publish('t', { n });
      await waitFor(() => got.length > 0, 300);
    }
    expect(got.length).toBeGreaterThan(0);
    const before = got.length;
    await pub.publish('t', { n: 'last' });
    await waitFor(() => got.some((e) => e.data.n === 'last'));
    expect(got.slice(before).map((e) => e.data.n)).toEqual(['last']);
    // In stream order, each once.
    expect(got.map((e) => e._id)).toEqual([...new Set(got.map((e) => e._id))].sort((x, y) => x - y));

    await reader.listenForBells(null);
    expect(await registered()).toEqual([]);
    await reader.close();
  }, 60_000);

  it('polls slowly while rings bring the events, and at its own pace again once an event comes without a ring', async () => {
    const db = dbName(cfg, BELLS_DB);
    const reader = await Subscriber.open(conn, db, silentLog, { pollMs: 20 });
    const got: LiveEvent[] = [];
    reader.on('t', (e) => got.push(e));
    try {
      await slowsDownAndBack(reader, got, db);
    } finally {
      await reader.close();
    }
  }, 60_000);

  it('takes a stray datagram as a reason to look, never as an event', async () => {
    const { db, reader, got, bell } = await listeningReader();
    const sock = dgram.createSocket('udp4');
    const forged = Buffer.from(JSON.stringify({ _id: 999_999, topic: 't', at: new Date(), data: { forged: true } }));
    for (let i = 0; i < 50; i++) await new Promise<void>((r) => sock.send(forged, bell.port, '127.0.0.1', () => r()));
    sock.close();
    // A real event published meanwhile by someone whose ring is never heard still comes through the look a datagram caused.
    const silent = await Publisher.open(conn, db);
    await conn.useDb(db, { useCache: true }).db!.collection(DOORBELLS).deleteMany({});
    await silent.publish('t', { n: 'real' });
    const again = dgram.createSocket('udp4');
    await new Promise<void>((r) => again.send(Buffer.from([1]), bell.port, '127.0.0.1', () => r()));
    again.close();
    await waitFor(() => got.length > 0);
    expect(got.map((e) => e.data)).toEqual([{ n: 'real' }]);
    await reader.close();
    expect(await registered()).toEqual([]);
  }, 60_000);
});
