import { Schema, Types, type Connection, type Model } from 'mongoose';
import { dropTestDatabases, openDb, testConfig } from '../test/helpers';
import type { Config } from './config';
import { GroupInsert } from './groupInsert';

/** Group-committed inserts on the real database: each document wins or loses on its own unique key. */
interface Doc {
  _id: Types.ObjectId;
  key: string;
}
let cfg: Config;
let conn: Connection;
let model: Model<Doc>;

beforeAll(async () => {
  cfg = testConfig();
  conn = await openDb(cfg, 'groupinsert');
  const schema = new Schema<Doc>({ key: { type: String, required: true } }, { versionKey: false, collection: 'docs' });
  schema.index({ key: 1 }, { unique: true });
  model = conn.model<Doc>('GroupInsertDoc', schema);
  await model.createIndexes(); // autoIndex is off on our connections
});
afterAll(async () => {
  await conn.close();
  await dropTestDatabases(cfg, ['groupinsert']);
});

it('stores concurrent documents in few inserts, refusing exactly those whose key is taken', async () => {
  const inserts = new GroupInsert(model, 50);
  await model.create({ _id: new Types.ObjectId(), key: 'taken' });
  const calls: string[] = [];
  const spy = jest.spyOn(model, 'insertMany');
  // 120 at once: 116 new keys, 'taken' (stored before), and a key sent three times.
  const keys = [...Array.from({ length: 116 }, (_, i) => `k${i}`), 'taken', 'thrice', 'thrice', 'thrice'];
  const results = await Promise.all(keys.map((key) => inserts.insert({ _id: new Types.ObjectId(), key }).then((ok) => (calls.push(key), ok))));
  expect(results.slice(0, 116).every(Boolean)).toBe(true);
  expect(results[116]).toBe(false);
  expect(results.slice(117).filter(Boolean)).toHaveLength(1);
  expect(await model.countDocuments({})).toBe(118);
  // The first goes out alone, the rest in batches of at most 50.
  expect(spy.mock.calls.length).toBeGreaterThanOrEqual(2);
  expect(spy.mock.calls.length).toBeLessThanOrEqual(4);
  spy.mockRestore();
});
