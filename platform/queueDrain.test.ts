import type { Connection } from 'mongoose';
import { dropTestDatabases, openDb, silentLog, testConfig, waitFor } from '../test/helpers';
import { Claims, claimsModel } from './claim';
import type { Config } from './config';
import { Queue, QUEUES_DB, type QueuedMessage } from './queue';
import { QueueDrain, type DrainHandlers } from './queueDrain';

/** Batch drains of a queue on the real database: one drain at a time, nothing lost, failures kept and given up. */
interface Msg extends QueuedMessage {
  n: number;
}
const SERVICE = 'draintest';
let cfg: Config;
let conn: Connection;
let claims: Claims;
beforeAll(async () => {
  cfg = testConfig();
  conn = await openDb(cfg, SERVICE);
  claims = new Claims(claimsModel(conn, 'claims'));
});
afterAll(async () => {
  await conn.close();
  await dropTestDatabases(cfg, [SERVICE, QUEUES_DB]);
});

const OPTS = { pollMs: 50, leaseMs: 10_000, batch: 40, atATime: 8 };
const handlers = (over: Partial<DrainHandlers<Msg>>): DrainHandlers<Msg> => ({
  handle: async () => undefined,
  giveUp: async () => undefined,
  isFinal: () => false,
  ...over,
});
const messages = (prefix: string, n: number): Msg[] => Array.from({ length: n }, (_v, i) => ({ _id: `${prefix}${i}`, n: i }));

it('stores single pushes made at once, each once', async () => {
  const queue = Queue.open<Msg>(conn, cfg, 'drain_push');
  const batch = messages('p', 60);
  await Promise.all([...batch, ...batch.slice(0, 10)].map((m) => queue.push(m)));
  expect(await queue.count()).toBe(60);
});

it('two workers drain 300 messages: every one handled, never by both drains at the same time, all removed', async () => {
  const queue = Queue.open<Msg>(conn, cfg, 'drain_two');
  await queue.push(...messages('m', 300));
  const handled = new Map<string, number>();
  // Messages in hand per worker: a worker handling while the other has some in hand would be two drains at once.
  const inHand = new Map<string, number>([
    ['a', 0],
    ['b', 0],
  ]);
  let overlap = 0;
  const worker = (name: string) =>
    new QueueDrain(
      queue,
      claims,
      handlers({
        handle: async (m) => {
          inHand.set(name, inHand.get(name)! + 1);
          if (inHand.get(name === 'a' ? 'b' : 'a')! > 0) overlap++;
          handled.set(m._id, (handled.get(m._id) ?? 0) + 1);
          await new Promise((r) => setImmediate(r));
          inHand.set(name, inHand.get(name)! - 1);
        },
      }),
      silentLog,
      OPTS,
    );
  const a = worker('a');
  const b = worker('b');
  a.start();
  b.start();
  await waitFor(async () => (await queue.count()) === 0, 60_000);
  await Promise.all([a.stop(), b.stop()]);
  expect(handled.size).toBe(300);
  expect([...handled.values()].every((times) => times === 1)).toBe(true);
  expect(overlap).toBe(0);
});

it('keeps a failed message with its attempts for later, and gives it up visibly when it is final', async () => {
  const queue = Queue.open<Msg>(conn, cfg, 'drain_fail');
  await queue.push(...messages('f', 3));
  const given: string[] = [];
  const drain = new QueueDrain(
    queue,
    claims,
    handlers({
      handle: async (m) => {
        if (m._id === 'f1') throw new Error('peer down');
      },
      isFinal: (_err, attempts) => attempts >= 2,
      giveUp: async (m, reason) => {
        given.push(`${m._id}: ${reason}`);
      },
    }),
    silentLog,
    OPTS,
  );
  await drain.pass();
  // f0 and f2 done and removed; f1 kept, counted, not ready again before its time.
  const [left] = await queue.peek(10);
  expect(await queue.count()).toBe(1);
  expect(left).toMatchObject({ _id: 'f1', attempts: 1 });
  expect(left.retryAt!.getTime()).toBeGreaterThan(Date.now());
  expect(await queue.ready(10)).toHaveLength(0);
  // Its time comes; it fails again, which is final now.
  await queue.postpone('f1', 1, new Date(0));
  await drain.pass();
  expect(given).toEqual(['f1: gave up after 2 attempts (peer down)']);
  expect(await queue.count()).toBe(0);
});

it('takes over from a worker that died holding the drain once its lease is over, and handles what it left', async () => {
  const queue = Queue.open<Msg>(conn, cfg, 'drain_dead');
  await queue.push(...messages('d', 20));
  // A worker took the drain and died: its claim stays until the lease ends.
  expect(await claims.tryClaim(`drain:${queue.name}`, 'dead-worker', 1_000)).toBe(true);
  const handled = new Set<string>();
  const drain = new QueueDrain(queue, claims, handlers({ handle: async (m) => void handled.add(m._id) }), silentLog, OPTS);
  expect(await drain.pass()).toBe(false);
  expect(handled.size).toBe(0);
  await waitFor(async () => {
    await drain.pass();
    return (await queue.count()) === 0;
  }, 30_000);
  expect(handled.size).toBe(20);
});
