import { Schema, Types, type Connection, type mongo } from 'mongoose';
import type { Config } from './config';
import { dropTestDatabases, openDb, testConfig } from '../test/helpers';
import { byIdLoader } from './loaders';

let cfg: Config;
let conn: Connection;
beforeAll(async () => {
  cfg = testConfig();
  conn = await openDb(cfg, 'loaders');
});
afterAll(async () => {
  await conn.close();
  await dropTestDatabases(cfg, ['loaders']);
});

interface ItemDoc {
  _id: Types.ObjectId;
  n: number;
}

describe('byIdLoader', () => {
  it('reads hundreds of documents in one round trip, in the order asked, null for unknown and malformed ids', async () => {
    const Item = conn.model<ItemDoc>('Item', new Schema<ItemDoc>({ n: { type: Number, required: true } }, { collection: 'items' }));
    const docs = Array.from({ length: 300 }, (_v, n) => ({ _id: new Types.ObjectId(), n }));
    await Item.insertMany(docs);
    const commands: string[] = [];
    const seen = (e: mongo.CommandStartedEvent) => commands.push(e.commandName);
    const client = conn.getClient();
    client.on('commandStarted', seen);
    try {
      const unknown = String(new Types.ObjectId());
      const ids = [...docs.map((d) => String(d._id)).reverse(), unknown, 'not-an-id'];
      const found = await byIdLoader(Item).loadMany(ids);
      expect(found.slice(0, 300).map((d) => (d as ItemDoc).n)).toEqual(docs.map((d) => d.n).reverse());
      expect(found.slice(300)).toEqual([null, null]);
    } finally {
      client.off('commandStarted', seen);
    }
    // The server's default first batch is 101 documents; the rest would be getMore round trips.
    expect(commands).toEqual(['find']);
  });
});
