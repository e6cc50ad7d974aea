import type { Connection } from 'mongoose';
import { dropTestDatabases, openDb, silentLog, testConfig } from '../test/helpers';
import { dbName, type Config } from './config';
import { EntityCache } from './entityCache';
import { EVENTS_DB, Publisher, Subscriber } from './pubsub';

/** Answers of other services kept until their owner announces a change, read-your-writes. */
let cfg: Config;
let conn: Connection;
let pub: Publisher;
let sub: Subscriber;

beforeAll(async () => {
  cfg = testConfig({ DB_PREFIX: `${testConfig().DB_PREFIX}_entitycache` });
  conn = await openDb(cfg, 'entitycache');
  pub = await Publisher.open(conn, dbName(cfg, EVENTS_DB));
  // A reader that on its own would not look at the stream during the test.
  sub = await Subscriber.open(conn, dbName(cfg, EVENTS_DB), silentLog, { pollMs: 600_000 });
});
afterAll(async () => {
  await sub.close();
  await conn.close();
  await dropTestDatabases(cfg, [EVENTS_DB]);
});

describe('EntityCache', () => {
  it('answers from memory until a change of that entity is announced, and sees the change at once', async () => {
    const cache = new EntityCache<string>(sub, 'thing.changed', 60_000);
    let loads = 0;
    const load = (v: string) => async () => {
      loads++;
      return v;
    };
    expect(await cache.get('a', load('a1'))).toBe('a1');
    expect(await cache.get('a', load('a2'))).toBe('a1');
    expect(await cache.get('b', load('b1'))).toBe('b1');
    expect(loads).toBe(2);

    // Announced before the next request: that request asks again, without waiting for a poll.
    await pub.publish('thing.changed', { id: 'a' });
    expect(await cache.get('a', load('a3'))).toBe('a3');
    expect(await cache.get('b', load('b2'))).toBe('b1'); // another entity keeps its answer
    await pub.publish('other.topic', { id: 'b' });
    expect(await cache.get('b', load('b3'))).toBe('b1');
    expect(loads).toBe(3);
  });

  it('does not keep an answer whose load overlapped a change of its entity', async () => {
    const cache = new EntityCache<string>(sub, 'thing.changed', 60_000);
    // The owner changes the entity (and announces it) while the first answer is on its way.
    const first = await cache.get('c', async () => {
      await pub.publish('thing.changed', { id: 'c' });
      await sub.catchUp();
      return 'before the change';
    });
    expect(first).toBe('before the change');
    expect(await cache.get('c', async () => 'after the change')).toBe('after the change');
    expect(await cache.get('c', async () => 'not asked')).toBe('after the change');
  });

  it('keeps an answer no longer than its time to live', async () => {
    const cache = new EntityCache<number>(sub, 'thing.changed', 0);
    expect(await cache.get('d', async () => 1)).toBe(1);
    expect(await cache.get('d', async () => 2)).toBe(2);
  });
});
