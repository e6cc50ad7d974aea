import type { Connection } from 'mongoose';
import type { Config } from './config';
import { dropTestDatabases, openDb, silentLog, testConfig } from '../test/helpers';
import { EVENTS_DB, Publisher, Subscriber, type LiveEvent } from './pubsub';
import { dbName } from './config';

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
  await dropTestDatabases(cfg, [EVENTS_DB]);
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
});
