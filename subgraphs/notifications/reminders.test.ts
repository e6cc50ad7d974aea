import type { Connection } from 'mongoose';
import type { Config } from '../../platform/config';
import { dropTestDatabases, openDb, testConfig } from '../../test/helpers';
import { createReminderStore, DUE_LOOKBACK_HOURS, type ReminderDoc, type ReminderStore } from './reminders';

let cfg: Config;
let conn: Connection;
let store: ReminderStore;
beforeAll(async () => {
  cfg = testConfig();
  conn = await openDb(cfg, 'notifications');
  store = await createReminderStore(conn);
});
afterAll(async () => {
  await conn.close();
  await dropTestDatabases(cfg, ['notifications']);
});

const HOUR = 3_600_000;
const col = () => conn.collection<ReminderDoc>('reminders');

describe('pending reminders', () => {
  it('insertOnly keeps a planned reminder, a replace moves it, concurrent plans of a new one all succeed', async () => {
    const start = new Date(Date.now() + 50 * HOUR);
    await store.plan('a1', start, 'Europe/Berlin', new Date(start.getTime() - 24 * HOUR), true);
    await store.plan('a1', new Date(start.getTime() + HOUR), 'UTC', new Date(start.getTime() - 23 * HOUR), true);
    expect(await col().findOne({ _id: 'a1' })).toMatchObject({ start, zone: 'Europe/Berlin', attempts: 0 });

    const moved = new Date(start.getTime() + 2 * HOUR);
    await store.plan('a1', moved, 'UTC', new Date(moved.getTime() - 24 * HOUR), false);
    expect(await col().findOne({ _id: 'a1' })).toMatchObject({ start: moved, zone: 'UTC' });

    await Promise.all(Array.from({ length: 8 }, (_v, i) => store.plan('a2', start, 'UTC', start, i % 2 === 0)));
    expect(await col().countDocuments({ _id: 'a2' })).toBe(1);
  });

  it('finds the due ones of the lookback window, oldest first; done() leaves a moved reminder alone', async () => {
    const now = new Date();
    const at = (h: number) => new Date(now.getTime() + h * HOUR);
    const doc = (id: string, dueAt: Date) => store.plan(id, at(30), 'UTC', dueAt, false);
    await doc('due-now', now);
    await doc('due-5h', at(-5));
    await doc('later', at(1));
    await doc('ancient', at(-(DUE_LOOKBACK_HOURS + 3)));
    expect((await store.due(now)).map((r) => r._id)).toEqual(['due-5h', 'due-now']);
    expect((await store.overdue(now)).map((r) => r._id)).toEqual(['ancient']);
    // On the embedded FerretDB (SQLite's plan in explain) the poll's $in on dueHour is index-served.
    const plan = JSON.stringify(await conn.db!.command({ explain: { find: 'reminders', filter: { dueHour: { $in: ['2026-12-02T10', '2026-12-02T11'] } } } }));
    if (/SCAN|SEARCH/.test(plan)) expect(plan).toMatch(/SEARCH \S+ USING INDEX \S+_dueHour_1/);

    await store.done({ _id: 'due-now', start: at(29) });
    expect(await col().countDocuments({ _id: 'due-now' })).toBe(1);
    await store.done({ _id: 'due-now', start: at(30) });
    expect(await col().countDocuments({ _id: 'due-now' })).toBe(0);
  });

  it('names when the next reminder falls due or may be retried, before the end of the next hour, none beyond', async () => {
    await col().deleteMany({});
    const now = new Date();
    const at = (ms: number) => new Date(now.getTime() + ms);
    const doc = (id: string, dueAt: Date) => store.plan(id, at(30 * HOUR), 'UTC', dueAt, false);
    expect(await store.nextReadyAt(now)).toBeNull();
    await doc('past', at(-60_000));
    await doc('in-3h', at(3 * HOUR));
    expect(await store.nextReadyAt(now)).toBeNull();
    await doc('in-50min', at(50 * 60_000));
    await doc('in-2min', at(2 * 60_000));
    expect(await store.nextReadyAt(now)).toEqual(at(2 * 60_000));
    // A due one that failed: ready again at its retry time.
    const failed = await col().findOne({ _id: 'past' });
    await store.failed(failed!, 'channel down', at(30_000));
    expect(await store.nextReadyAt(now)).toEqual(at(30_000));
  });
});
