import mongoose, { type Connection, type Model } from 'mongoose';
import pino from 'pino';
import { dropTestDatabases, openDb, silentLog, testConfig } from '../test/helpers';
import { AUDIT_DB, AuditBuffer, AuditTrail, auditEntriesOf, auditLogPage, auditModel, groupAuditEntries, type AuditEntry, type AuditEntryRow, type AuditRecordDoc } from './audit';
import { dbName, type Config } from './config';

/** The audit trail of a process: every request's entries stored before its answer, in few inserts. */
let cfg: Config;
let conn: Connection;
let model: Model<AuditRecordDoc>;

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

/** The entries stored in the records matching `filter`. */
const entriesStored = async (filter: Record<string, unknown>) => (await model.find(filter).lean<AuditRecordDoc[]>()).flatMap(auditEntriesOf);

describe('AuditTrail', () => {
  it('stores the entries of 60 requests ending together in fewer inserts, each request released only once its own are stored', async () => {
    const trail = new AuditTrail(model);
    const inserts = jest.spyOn(model, 'insertMany');
    try {
      const requests = Array.from({ length: 60 }, (_v, i) => `req-${i}`);
      const storedAtRelease = await Promise.all(
        requests.map(async (id, i) => {
          await trail.write([entry(id, i), entry(id, i + 1000)], silentLog);
          return (await entriesStored({ requestId: id })).map((e) => e.entityId);
        }),
      );
      expect(storedAtRelease).toEqual(requests.map((_id, i) => [`p${i}`, `p${i + 1000}`]));
      expect(await entriesStored({ requestId: /^req-/ })).toHaveLength(120);
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
      await new AuditTrail(away.model<AuditRecordDoc>('AuditEntry', model.schema)).write([entry('lost', 1)], log);
      expect(logged).toHaveLength(1);
      expect(logged[0].auditEntries?.map((e) => e.requestId)).toEqual(['lost']);
      expect(logged[0].err).toBeTruthy();
    } finally {
      await away.close();
    }
  });
});

describe('grouped records', () => {
  it("one request's entries that differ only in the entity become one record listing the entities in order, repeats kept", () => {
    const base = entry('grp-0', 0);
    const records = groupAuditEntries([
      { ...base, entityId: 'p1' },
      { ...base, entityId: 'p2' },
      { ...base, entityId: 'p3', outcome: 'DENIED', fields: ['labResults'] },
      { ...base, entityId: 'p1' },
      { ...base, entityId: 'd1', entityType: 'Doctor' },
    ]);
    expect(records).toEqual([
      { ...base, entityId: ['p1', 'p2', 'p1'] },
      { ...base, entityId: 'p3', outcome: 'DENIED', fields: ['labResults'] },
      { ...base, entityId: 'd1', entityType: 'Doctor' },
    ]);
  });

  it("one live read's answer handed to many subscribers is one record listing the recipients, found again by user", async () => {
    const read = { ...entry('sub-0', 0), service: 'router', entityType: 'Appointment', entityId: 'a1', reason: 'live event 7: the answer read by request r-read' };
    const recipients = Array.from({ length: 300 }, (_v, i) => ({ ...read, userId: `ru${i}`, role: i % 2 ? 'NURSE' : 'DOCTOR', requestId: `sub-${i}` }));
    await new AuditTrail(model).write(recipients, silentLog);
    const stored = await model.find({ reason: read.reason }).lean<AuditRecordDoc[]>();
    expect(stored).toHaveLength(1);
    expect(stored.flatMap(auditEntriesOf).map(({ id: _id, ...e }) => e)).toEqual(recipients);
    const page = await auditLogPage(model, { userId: 'ru123' }, { first: 10 });
    expect(page.edges.map((e) => e.node)).toEqual([expect.objectContaining({ userId: 'ru123', role: 'NURSE', requestId: 'sub-123', entityId: 'a1' })]);
    // Entity and user both listed, at different places: the record matches the query, no entry does.
    expect((await auditLogPage(model, { userId: 'ru1', entityId: 'a2' }, { first: 10 })).edges).toEqual([]);
  });

  it('a list of 500 reads is one document, and the audit log pages through its 500 entries in order, also by entity', async () => {
    const requestId = 'grp-list';
    const trail = new AuditTrail(model);
    const buffer = new AuditBuffer(trail, 'test', { userId: 'u-grp', role: 'DOCTOR' }, requestId);
    for (let i = 0; i < 500; i++) buffer.record({ entityType: 'Patient', entityId: `gp${i}`, operation: 'READ', fields: ['name'], outcome: 'ALLOWED' });
    await buffer.flush(silentLog);
    expect(await model.countDocuments({ requestId })).toBe(1);
    // A single entry of the same request stored after it (also the shape written before grouping).
    await trail.write([entry(requestId, 7)], silentLog);

    const seen: AuditEntryRow[] = [];
    let after: string | null = null;
    do {
      const page = await auditLogPage(model, { requestId }, { first: 100, after });
      seen.push(...page.edges.map((e) => e.node));
      after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
    } while (after);
    // Newest record first, each record's entries in the order read; no entry twice, none left out.
    expect(seen.map((e) => e.entityId)).toEqual(['p7', ...Array.from({ length: 500 }, (_v, i) => `gp${i}`)]);
    expect(new Set(seen.map((e) => e.id)).size).toBe(501);
    expect(seen[1]).toMatchObject({ userId: 'u-grp', role: 'DOCTOR', service: 'test', entityType: 'Patient', operation: 'READ', outcome: 'ALLOWED', fields: ['name'] });

    // By entity: the one entry of that entity inside the group, and a single record.
    const one = await auditLogPage(model, { requestId, entityId: 'gp321' }, { first: 10 });
    expect(one.edges.map((e) => e.node.entityId)).toEqual(['gp321']);
    expect(one.pageInfo.hasNextPage).toBe(false);
    expect((await auditLogPage(model, { requestId, entityId: 'p7' }, { first: 10 })).edges.map((e) => e.node.entityId)).toEqual(['p7']);
  });
});
