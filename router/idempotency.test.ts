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

  it('forgets expired records when read and deletes them in the sweep', async () => {
    const k = key();
    const old = store({ ttlMs: 0 });
    const first = await old.begin(k, 'h');
    if (!first.run) throw new Error('the first request must run');
    await old.finish(first.recordId, answer);
    expect(await old.sweep()).toBeGreaterThanOrEqual(1);
    expect(await conn.collection('idempotency').countDocuments({ key: k })).toBe(0);
    const again = await old.begin(k, 'other request, same key, a day later');
    expect(again).toMatchObject({ run: true });
  });
});
