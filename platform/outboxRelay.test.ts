import { Schema, Types, type Connection, type Model } from 'mongoose';
import { dropTestDatabases, openDb, silentLog, testConfig } from '../test/helpers';
import type { Config } from './config';
import { newOutbox, outboxEvent, outboxPaths, type OutboxEvent, type OutboxFields } from './outbox';
import { allOf, OutboxRelay, type EventHandler } from './outboxRelay';

/** The relay's hand-on of one document's events, on the real database. */
interface Doc extends OutboxFields {
  _id: Types.ObjectId;
}
let cfg: Config;
let conn: Connection;
let model: Model<Doc>;

beforeAll(async () => {
  cfg = testConfig();
  conn = await openDb(cfg, 'outboxrelay');
  model = conn.model<Doc>('RelayDoc', new Schema<Doc>({ ...outboxPaths }, { versionKey: false, collection: 'docs' }));
});
afterAll(async () => {
  await conn.close();
  await dropTestDatabases(cfg, ['outboxrelay']);
});

/** A handler that records when it started and waits until `release` is called for its event. */
class Gate {
  readonly started: string[] = [];
  private readonly waiting = new Map<string, { ok: () => void; fail: (e: Error) => void }>();

  handler: EventHandler<Doc> = (event) =>
    new Promise<void>((ok, fail) => {
      this.started.push(event.type);
      this.waiting.set(event.type, { ok, fail });
    });

  async release(type: string, error?: Error): Promise<void> {
    await until(() => this.waiting.has(type));
    const w = this.waiting.get(type)!;
    if (error) w.fail(error);
    else w.ok();
  }
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setImmediate(r));
}

async function stored(events: OutboxEvent[]): Promise<Doc> {
  const doc = await model.create({ _id: new Types.ObjectId(), ...newOutbox(...events) });
  return doc.toObject<Doc>();
}

it('starts an independent event at once, keeps the others in order, and counts handled up to the first failure', async () => {
  const gate = new Gate();
  const relay = new OutboxRelay<Doc>(model, { A: gate.handler, B: gate.handler, CARE: gate.handler }, silentLog, undefined, new Set(['CARE']));
  const doc = await stored([outboxEvent('A'), outboxEvent('B'), outboxEvent('CARE')]);
  const dispatched = relay.dispatch(doc);
  // A and the independent CARE run together; B waits for A.
  await until(() => gate.started.length === 2);
  expect([...gate.started].sort()).toEqual(['A', 'CARE']);
  await gate.release('CARE');
  await gate.release('A', new Error('peer down'));
  // B never starts after A failed; CARE was handed on, but A is the first not handed on.
  expect(await dispatched).toBe(false);
  expect([...gate.started].sort()).toEqual(['A', 'CARE']);
  const after = await model.findById(doc._id).lean<Doc>();
  expect(after).toMatchObject({ outboxHandled: 0, outboxPending: true });
});

it('marks every event handed on when all succeed, the ordered ones one after the other', async () => {
  const gate = new Gate();
  const relay = new OutboxRelay<Doc>(model, { A: gate.handler, B: gate.handler, CARE: gate.handler }, silentLog, undefined, new Set(['CARE']));
  const doc = await stored([outboxEvent('A'), outboxEvent('B'), outboxEvent('CARE')]);
  const dispatched = relay.dispatch(doc);
  await gate.release('A');
  await until(() => gate.started.includes('B'));
  await gate.release('B');
  await gate.release('CARE');
  expect(await dispatched).toBe(true);
  expect(await model.findById(doc._id).lean<Doc>()).toMatchObject({ outboxHandled: 3, outboxPending: false });
});

it('without independent types hands events on strictly in order', async () => {
  const gate = new Gate();
  const relay = new OutboxRelay<Doc>(model, { A: gate.handler, CARE: gate.handler }, silentLog);
  const doc = await stored([outboxEvent('A'), outboxEvent('CARE')]);
  const dispatched = relay.dispatch(doc);
  await until(() => gate.started.length === 1);
  // Give CARE every chance to start early: it must not before A is done.
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  expect(gate.started).toEqual(['A']);
  await gate.release('A');
  await gate.release('CARE');
  expect(await dispatched).toBe(true);
  expect(gate.started).toEqual(['A', 'CARE']);
});

it('allOf runs its handlers together and fails the event when one fails', async () => {
  const gate = new Gate();
  const doc = await stored([]);
  const other: EventHandler<Doc> = (e, d) => gate.handler({ ...e, type: `${e.type}-2` }, d);
  const run = allOf<Doc>(gate.handler, other)(outboxEvent('X'), doc);
  await until(() => gate.started.length === 2);
  expect(gate.started.sort()).toEqual(['X', 'X-2']);
  await gate.release('X');
  await gate.release('X-2', new Error('queue down'));
  await expect(run).rejects.toThrow('queue down');
});
