import mongoose, { type Connection, type Model } from 'mongoose';
import pino from 'pino';
import { dropTestDatabases, openDb, silentLog, testConfig } from '../test/helpers';
import { AUDIT_DB, AuditTrail, auditModel, type AuditEntry, type AuditEntryDoc } from './audit';
import { dbName, type Config } from './config';

/** The audit trail of a process: every request's entries stored before its answer, in few inserts. */
let cfg: Config;
let conn: Connection;
let model: Model<AuditEntryDoc>;

beforeAll(async () => {
  cfg = testConfig({ DB_PREFIX: `${testConfig().DB_PREFIX}_audittrail` });
  conn = await openDb(cfg, AUDIT_DB);
  model = await auditModel(conn, dbName(cfg, AUDIT_DB));
});
afterAll(async () => {
  await conn.close();
  await dropTestDatabases(cfg, [AUDIT_DB]);
});

const entry = (requestId: string, n: number): AuditEntry => ({
  at: new Date(),
  userId: 'u1',
  role: 'DOCTOR',
  requestId,
  service: 'test',
  entityType: 'Patient',
  entityId: `p${n}`,
  operation: 'READ',
  fields: ['name'],
  outcome: 'ALLOWED',
  reason: null,
});

describe('AuditTrail', () => {
  it('stores the entries of 60 requests ending together in fewer inserts, each request released only once its own are stored', async () => {
    const trail = new AuditTrail(model);
    const inserts = jest.spyOn(model, 'insertMany');
    try {
      const requests = Array.from({ length: 60 }, (_v, i) => `req-${i}`);
      const storedAtRelease = await Promise.all(
        requests.map(async (id, i) => {
          await trail.write([entry(id, i), entry(id, i + 1000)], silentLog);
          return model.countDocuments({ requestId: id });
        }),
      );
      expect(storedAtRelease).toEqual(requests.map(() => 2));
      expect(await model.countDocuments({ requestId: /^req-/ })).toBe(120);
      expect(inserts.mock.calls.length).toBeGreaterThan(0);
      expect(inserts.mock.calls.length).toBeLessThan(60);
    } finally {
      inserts.mockRestore();
    }
  });

  it('logs the entries in full when they cannot be stored, and releases the request', async () => {
    // A database nobody listens on: the insert fails for real after server selection gives up.
    const away = mongoose.createConnection('mongodb://127.0.0.1:1/audit', { serverSelectionTimeoutMS: 300, bufferCommands: false });
    away.on('error', () => undefined);
    try {
      const logged: { err?: string; auditEntries?: AuditEntry[] }[] = [];
      const log = pino({ level: 'error' }, { write: (line: string) => void logged.push(JSON.parse(line) as { err?: string; auditEntries?: AuditEntry[] }) });
      await new AuditTrail(away.model<AuditEntryDoc>('AuditEntry', model.schema)).write([entry('lost', 1)], log);
      expect(logged).toHaveLength(1);
      expect(logged[0].auditEntries?.map((e) => e.requestId)).toEqual(['lost']);
      expect(logged[0].err).toBeTruthy();
    } finally {
      await away.close();
    }
  });
});
