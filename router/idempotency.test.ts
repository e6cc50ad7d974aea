import type { Connection } from 'mongoose';
import type { Config } from '../platform/config';
import { dropTestDatabases, openDb, testConfig } from '../test/helpers';
import { IdempotencyStore, ROUTER_DB, type IdempotencyStoreOptions } from './idempotency';

/** The router's idempotency records on the real database (test/idempotency.e2e.test.ts: through HTTP). */
let cfg: Config;
let conn: Connection;
const store = (opts: Partial<IdempotencyStoreOptions> = {}) => IdempotencyStore.open(conn, { leaseMs: 60_000, waitMs: 5_000, ...opts });
let n = 0;
const key = () => `user-1:key-${++n}`;
const answer = { status: 200, body: { data: { bookAppointment: { id: 'a1' } } } };

beforeAll(async () => {
  cfg = testConfig();
  conn = await openDb(cfg, ROUTER_DB);
});
afterAll(async () => {
  await conn.close();
  await dropTestDatabases(cfg, [ROUTER_DB]);
});

describe('idempotency records of the router', () => {
  it('lets the first request run and replays its stored answer to the next one', async () => {
    const s = store();
    const k = key();
    const first = await s.begin(k, 'h');
    if (!first.run) throw new Error('the first request must run');
    await s.finish(first.recordId, answer);
    expect(await s.begin(k, 'h')).toEqual({ run: false, answer });
  });

  it('stores the records of concurrent requests together, each winning or losing on its own key', async () => {
    const s = store();
    const held = key();
    const holder = await s.begin(held, 'h');
    if (!holder.run) throw new Error('the holder must run');
    // 30 at once: 28 new keys, a key twice (exactly one of the two runs), and the held key (waits).
    const keys = [...Array.from({ length: 28 }, key)];
    const twice = key();
    const waiting = s.begin(held, 'h');
    const pair = [s.begin(twice, 'h'), s.begin(twice, 'h')];
    const begun = await Promise.all(keys.map((k) => s.begin(k, 'h')));
    expect(begun.filter((b) => b.run)).toHaveLength(28);
    // Of the pair one runs at once; the other waits for its answer.
    const winner = await Promise.race(pair);
    if (!winner.run) throw new Error('one of the pair must run');
    await s.finish(winner.recordId, answer);
    expect((await Promise.all(pair)).filter((b) => !b.run)).toEqual([{ run: false, answer }]);
    // The held key's request gets the holder's answer once it is stored.
    await s.finish(holder.recordId, answer);
    expect(await waiting).toEqual({ run: false, answer });
    // Every answer of the 28 is stored (together) and replayed.
    await Promise.all(begun.map((b) => (b.run ? s.finish(b.recordId, answer) : Promise.resolve())));
    for (const k of keys) expect(await s.begin(k, 'h')).toEqual({ run: false, answer });
  });

  it('refuses the key for another request, and lets a retry run again after an open outcome', async () => {
    const s = store();
    const k = key();
    const first = await s.begin(k, 'h');
    await expect(s.begin(k, 'other')).rejects.toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    if (!first.run) throw new Error('the first request must run');
    await s.abandon(first.recordId);
    expect(await s.begin(k, 'h')).toMatchObject({ run: true });
  });

  it('answers a retry the retryable SUBGRAPH_UNAVAILABLE while the first runs, and runs it once the lease is over', async () => {
    const k = key();
    await store({ leaseMs: 60_000 }).begin(k, 'h');
    await expect(store({ waitMs: 0 }).begin(k, 'h')).rejects.toMatchObject({
      extensions: { code: 'SUBGRAPH_UNAVAILABLE', reason: 'IDEMPOTENCY_KEY_IN_PROGRESS' },
    });
    const gone = key();
    const dead = await store({ leaseMs: 0 }).begin(gone, 'h'); // its router died: the lease is already over
    const retry = await store().begin(gone, 'h');
    expect(retry).toMatchObject({ run: true });
    // The dead request's late answer is not stored over the retry's record.
    if (!dead.run || !retry.run) throw new Error('both must run');
    await store().finish(dead.recordId, answer);
    await expect(store({ waitMs: 0 }).begin(gone, 'h')).rejects.toMatchObject({ extensions: { code: 'SUBGRAPH_UNAVAILABLE' } });
  });

  it('replays an answer stored after its lease ended, as long as no retry took the key over', async () => {
    const k = key();
    const slow = await store({ leaseMs: 0 }).begin(k, 'h');
    if (!slow.run) throw new Error('the first request must run');
    await store().finish(slow.recordId, answer);
    expect(await store().begin(k, 'h')).toEqual({ run: false, answer });
  });

  it('replays the answers kept in the record by earlier versions', async () => {
    const k = key();
    const now = Date.now();
    await conn.collection('idempotency').insertOne({ key: k, hash: 'h', state: 'DONE', leaseUntil: new Date(now), expiresAt: new Date(now + 60_000), answer: JSON.stringify(answer) });
    expect(await store().begin(k, 'h')).toEqual({ run: false, answer });
    await expect(store().begin(k, 'other')).rejects.toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
  });

  it('forgets expired records when read and deletes them in the sweep', async () => {
    const k = key();
    const old = store({ ttlMs: 0 });
    const first = await old.begin(k, 'h');
    if (!first.run) throw new Error('the first request must run');
    await old.finish(first.recordId, answer);
    expect(await old.sweep()).toBeGreaterThanOrEqual(1);
    expect(await conn.collection('idempotency').countDocuments({ key: k })).toBe(0);
    expect(await conn.collection('idempotency_answers').countDocuments({ _id: first.recordId })).toBe(0);
    const again = await old.begin(k, 'other request, same key, a day later');
    expect(again).toMatchObject({ run: true });
  });
});
