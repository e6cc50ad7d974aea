import type { Connection } from 'mongoose';
import type { Config } from '../../platform/config';
import type { Identity } from '../../platform/identity';
import { dropTestDatabases, openDb, testConfig } from '../../test/helpers';
import { createPatientModels } from './model';
import { PatientService } from './service';

let cfg: Config;
let conn: Connection;
let patients: PatientService;

beforeAll(async () => {
  cfg = testConfig();
  conn = await openDb(cfg, 'patients');
  patients = new PatientService(await createPatientModels(conn), 'Europe/Berlin');
});
afterAll(async () => {
  await conn.close();
  await dropTestDatabases(cfg, ['patients']);
});

const base = { dateOfBirth: '1980-05-17', sex: 'FEMALE' as const };
const admin: Identity = { userId: 'u-admin', role: 'ADMIN' };

describe('PatientService on the real database', () => {
  it('registers, reads back and erases a patient', async () => {
    const p = await patients.register({
      ...base,
      firstName: 'Ada',
      lastName: 'Byron',
      email: 'Ada@Example.org',
      phone: '+441234567890',
      allergies: ['Latex'],
      emergencyContact: { name: 'Charles', relationship: 'Friend', phone: '+441234567891' },
    });
    const read = await patients.get(String(p._id));
    expect(read).toMatchObject({ firstName: 'Ada', lastName: 'Byron', email: 'ada@example.org', allergies: ['Latex'] });
    expect(read.emergencyContact?.phone).toBe('+441234567891');
    await expect(patients.erase(String(p._id))).resolves.toBe(String(p._id));
    await expect(patients.get(String(p._id))).rejects.toMatchObject({ extensions: { code: 'NOT_FOUND' } });
    await expect(patients.erase(String(p._id))).rejects.toMatchObject({ extensions: { code: 'NOT_FOUND' } });
  });

  it('lists by last name with stable cursors across pages, and searches by name prefix', async () => {
    const names = ['Zeta', 'Alpha', 'Mu', 'Beta', 'Kappa', 'Alphonse'];
    for (const lastName of names) await patients.register({ ...base, firstName: 'Pat', lastName });
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page: Awaited<ReturnType<PatientService['list']>> = await patients.list({ first: 4, after }, admin, patients.loaders());
      seen.push(...page.edges.map((e) => e.node.lastName));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(seen).toEqual([...names].sort());
    const found = await patients.list({ search: 'alph' }, admin, patients.loaders());
    expect(found.edges.map((e) => e.node.lastName)).toEqual(['Alpha', 'Alphonse']);
    const regexChars = await patients.list({ search: '.*' }, admin, patients.loaders());
    expect(regexChars.edges).toHaveLength(0);
  });

  it('refuses an oversized page and a forged cursor', async () => {
    await expect(patients.list({ first: 101 }, admin, patients.loaders())).rejects.toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'first' } });
    await expect(patients.list({ first: 0 }, admin, patients.loaders())).rejects.toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    await expect(patients.list({ after: 'not-a-cursor' }, admin, patients.loaders())).rejects.toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'after' } });
  });

  it('updates only the given fields, clears optional ones, keeps required ones', async () => {
    const p = await patients.register({ ...base, firstName: 'Tom', lastName: 'Old', phone: '+4930123456' });
    const id = String(p._id);
    const updated = await patients.update(id, { lastName: 'New', phone: null });
    expect(updated).toMatchObject({ firstName: 'Tom', lastName: 'New', sortKey: 'new tom' });
    expect(updated.phone).toBeUndefined();
    await expect(patients.update(id, { firstName: null })).rejects.toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'firstName' } });
  });

  it('validates dates and phone numbers the scalars let through', async () => {
    await expect(patients.register({ ...base, firstName: 'F', lastName: 'Uture', dateOfBirth: '2999-01-01' })).rejects.toMatchObject({
      extensions: { code: 'BAD_USER_INPUT', field: 'dateOfBirth' },
    });
    await expect(patients.register({ ...base, firstName: 'P', lastName: 'Hone', phone: '12345' })).rejects.toMatchObject({
      extensions: { code: 'BAD_USER_INPUT', field: 'phone' },
    });
  });

  it('appends history entries and lab results, flagging abnormal values by the reference range', async () => {
    const p = await patients.register({ ...base, firstName: 'Lab', lastName: 'Rat' });
    const id = String(p._id);
    await patients.addHistory(id, { condition: 'Migraine', diagnosedOn: '2020-02-02' });
    const withLab = await patients.addLabResult(id, {
      test: 'HbA1c',
      value: 7.2,
      unit: '%',
      referenceRange: { low: 4, high: 5.6 },
      takenAt: new Date('2026-01-10T08:00:00Z'),
    });
    expect(withLab.medicalHistory.map((h) => h.condition)).toEqual(['Migraine']);
    expect(withLab.labResults[0]).toMatchObject({ test: 'HbA1c', value: 7.2 });
    await expect(patients.addLabResult(id, { test: 'X', value: 1, unit: 'u', referenceRange: { low: 5, high: 1 }, takenAt: new Date() })).rejects.toMatchObject({
      extensions: { code: 'BAD_USER_INPUT' },
    });
    await expect(patients.addLabResult(id, { test: 'X', value: 1, unit: 'u', takenAt: new Date(Date.now() + 86_400_000) })).rejects.toMatchObject({
      extensions: { code: 'BAD_USER_INPUT', field: 'takenAt' },
    });
    await expect(patients.addHistory('65e0000000000000000000ff', { condition: 'X' })).rejects.toMatchObject({ extensions: { code: 'NOT_FOUND' } });
  });

  it('lists only their own patients to a doctor', async () => {
    const mine = await patients.register({ ...base, firstName: 'Mine', lastName: 'Treated' });
    await patients.register({ ...base, firstName: 'Other', lastName: 'Untreated' });
    await patients.addCareRelation(String(mine._id), 'doc-1');
    await patients.addCareRelation(String(mine._id), 'doc-1'); // idempotent
    const doctor: Identity = { userId: 'u-doc', role: 'DOCTOR', doctorId: 'doc-1' };
    const seen = await patients.list({ first: 100 }, doctor, patients.loaders());
    expect(seen.edges.map((e) => e.node.lastName)).toEqual(['Treated']);
    const stranger: Identity = { userId: 'u-doc2', role: 'DOCTOR', doctorId: 'doc-2' };
    expect((await patients.list({ first: 100 }, stranger, patients.loaders())).edges).toEqual([]);
  });

  it("answers whether a doctor treats a patient from those pairs alone, however many patients the doctor has", async () => {
    const ids = (n: number, p: string) => Array.from({ length: n }, (_v, i) => `${p}${String(i).padStart(4, '0')}`);
    const many = ids(300, 'pat-many-');
    await patients.addCareRelations(many.map((patientId) => ({ patientId, doctorId: 'doc-many' })));
    await patients.addCareRelations([{ patientId: 'pat-shared', doctorId: 'doc-other' }]);
    const reads: { filter: unknown; returned: number }[] = [];
    const started = new Map<number, unknown>();
    const client = conn.getClient();
    const onStart = (e: { requestId: number; commandName: string; command: { find?: string; filter?: unknown } }) => {
      if (e.commandName === 'find' && e.command.find === 'care_relations') started.set(e.requestId, e.command.filter);
    };
    const onEnd = (e: { requestId: number; reply?: { cursor?: { firstBatch?: unknown[] } } }) => {
      if (started.has(e.requestId)) reads.push({ filter: started.get(e.requestId), returned: e.reply?.cursor?.firstBatch?.length ?? -1 });
    };
    client.on('commandStarted', onStart);
    client.on('commandSucceeded', onEnd);
    try {
      const loaders = patients.loaders();
      const asked = [many[7], many[250], 'pat-shared', 'pat-nobody'];
      const answers = await Promise.all(asked.map((patientId) => loaders.treats.load({ doctorId: 'doc-many', patientId })));
      expect(answers).toEqual([true, true, false, false]);
      expect(await loaders.treats.load({ doctorId: 'doc-other', patientId: 'pat-shared' })).toBe(true);
      // One read for the four pairs of one doctor, returning the two relations that exist, not the doctor's 300.
      expect(reads[0]).toEqual({ filter: { doctorId: 'doc-many', patientId: { $in: asked } }, returned: 2 });
      expect(reads).toHaveLength(2);
    } finally {
      client.off('commandStarted', onStart);
      client.off('commandSucceeded', onEnd);
    }
  });
});
