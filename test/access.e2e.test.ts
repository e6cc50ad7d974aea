import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse, Kind } from 'graphql';
import type { Role } from '../platform/identity';
import { SUBGRAPHS } from '../platform/services';
import { accountsSubgraph } from '../subgraphs/accounts/index';
import { doctorsSubgraph } from '../subgraphs/doctors/index';
import type { CareRelationDoc } from '../subgraphs/patients/model';
import { patientsSubgraph } from '../subgraphs/patients/index';
import { startTestGraph, type GraphQLResponse, type TestGraph } from './helpers';

/**
 * The access suite: every query and mutation that touches patient data, tried by every role
 * against an own and a foreign record. "Own" is the patient's own record for PATIENT, a patient
 * the doctor treats for DOCTOR; staff get the same answer for both.
 */
type Target = 'own' | 'foreign';
type Outcome = 'allowed' | 'denied';
interface Op {
  /** Root field this row covers (the coverage test matches these against every schema). */
  field: string;
  /** The record to act on; default the shared own/foreign patient. */
  target?: (t: Target, role: Role) => Promise<string>;
  run: (token: string, id: string) => Promise<GraphQLResponse>;
  /** Default: FORBIDDEN → denied, data without errors → allowed. */
  outcome?: (res: GraphQLResponse, id: string) => Outcome;
  expect: Record<Role, [own: boolean, foreign: boolean]>;
}

const PASSWORD = 'access-suite-password';
let graph: TestGraph;
const tokens = {} as Record<Role, string>;
const ids = { own: '', foreign: '', doctor: '', patientUser: '' };

const register = async (firstName: string): Promise<string> => {
  const res = await graph.as<{ registerPatient: { id: string } }>(tokens.SUPER_ADMIN, `mutation R($i: RegisterPatientInput!) { registerPatient(input: $i) { id } }`, {
    i: { firstName, lastName: 'Suite', dateOfBirth: '1970-01-01', sex: 'UNKNOWN' },
  });
  return res.data!.registerPatient.id;
};
const treat = async (patientId: string): Promise<void> => {
  await graph.subgraphs.patients!.conn.model<CareRelationDoc>('CareRelation').create({ patientId, doctorId: ids.doctor, since: new Date() });
};

function defaultOutcome(res: GraphQLResponse): Outcome {
  const code = res.errors?.[0]?.extensions?.code;
  if (code === 'FORBIDDEN') return 'denied';
  if (!res.errors && res.data) return 'allowed';
  throw new Error(`unexpected answer: ${JSON.stringify(res)}`);
}
const listed = (res: GraphQLResponse, id: string): Outcome => {
  if (res.errors?.[0]?.extensions?.code === 'FORBIDDEN') return 'denied';
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return JSON.stringify(res.data).includes(id) ? 'allowed' : 'denied';
};

const ALL: [boolean, boolean] = [true, true];
const NONE: [boolean, boolean] = [false, false];
const OWN: [boolean, boolean] = [true, false];
const readRecord = { SUPER_ADMIN: ALL, ADMIN: ALL, NURSE: ALL, PHARMACIST: ALL, DOCTOR: OWN, PATIENT: OWN };
const readClinical = { ...readRecord, PHARMACIST: NONE };
const writeClinical = { SUPER_ADMIN: ALL, ADMIN: ALL, NURSE: NONE, PHARMACIST: NONE, DOCTOR: OWN, PATIENT: NONE };
const adminsOnly = { SUPER_ADMIN: ALL, ADMIN: ALL, NURSE: NONE, PHARMACIST: NONE, DOCTOR: NONE, PATIENT: NONE };

const freshTarget = async (t: Target, role: Role): Promise<string> => {
  if (t === 'own' && role === 'PATIENT') return ids.own; // a patient trying to erase their own record
  const id = await register(`Erase-${role}-${t}`);
  if (t === 'own' && role === 'DOCTOR') await treat(id);
  return id;
};

const OPS: Record<string, Op> = {
  'patient(id) demographics': {
    field: 'patient',
    run: (tk, id) => graph.as(tk, `{ patient(id: "${id}") { id name dateOfBirth allergies } }`),
    expect: readRecord,
  },
  'patient(id) medicalHistory': {
    field: 'patient',
    run: (tk, id) => graph.as(tk, `{ patient(id: "${id}") { medicalHistory { condition } } }`),
    expect: readClinical,
  },
  'patient(id) labResults': {
    field: 'patient',
    run: (tk, id) => graph.as(tk, `{ patient(id: "${id}") { labResults { test value } } }`),
    expect: readClinical,
  },
  'patients list': {
    field: 'patients',
    run: (tk) => graph.as(tk, `{ patients(first: 100) { edges { node { id } } } }`),
    outcome: listed,
    expect: { ...readRecord, PATIENT: NONE },
  },
  'patients search by name': {
    field: 'patients',
    run: (tk) => graph.as(tk, `{ patients(search: "Foreign") { edges { node { id name } } } }`),
    outcome: (res) => listed(res, ids.foreign),
    expect: { ...readRecord, DOCTOR: NONE, PATIENT: NONE },
  },
  updatePatient: {
    field: 'updatePatient',
    run: (tk, id) => graph.as(tk, `mutation { updatePatient(id: "${id}", input: { phone: "+4930111222" }) { id } }`),
    expect: { SUPER_ADMIN: ALL, ADMIN: ALL, NURSE: NONE, PHARMACIST: NONE, DOCTOR: NONE, PATIENT: OWN },
  },
  addMedicalHistoryEntry: {
    field: 'addMedicalHistoryEntry',
    run: (tk, id) => graph.as(tk, `mutation { addMedicalHistoryEntry(patientId: "${id}", input: { condition: "Checked" }) { id } }`),
    expect: writeClinical,
  },
  addLabResult: {
    field: 'addLabResult',
    run: (tk, id) => graph.as(tk, `mutation { addLabResult(patientId: "${id}", input: { test: "CRP", value: 3, unit: "mg/L", takenAt: "2026-01-01T00:00:00Z" }) { id } }`),
    expect: writeClinical,
  },
  deletePatient: {
    field: 'deletePatient',
    target: freshTarget,
    run: (tk, id) => graph.as(tk, `mutation { deletePatient(id: "${id}") }`),
    expect: adminsOnly,
  },
  registerPatient: {
    field: 'registerPatient',
    run: (tk) => graph.as(tk, `mutation { registerPatient(input: { firstName: "New", lastName: "Born", dateOfBirth: "2026-01-01", sex: UNKNOWN }) { id } }`),
    expect: adminsOnly,
  },
};

/** Root fields that touch no patient data, by subgraph: a new field must be put here or in OPS. */
const NOT_PATIENT_DATA = new Set([
  'accounts.me', 'accounts.user', 'accounts.users', 'accounts.auditLog', 'accounts.login', 'accounts.refreshSession',
  'accounts.logout', 'accounts.changePassword', 'accounts.createUser', 'accounts.setUserRole', 'accounts.deactivateUser',
  'accounts.reactivateUser', 'accounts.resetPassword', 'accounts.linkUserToPatient', 'accounts.linkUserToDoctor',
  'doctors.doctor', 'doctors.doctors', 'doctors.specialties', 'doctors.availableSlots', 'doctors.createDoctor',
  'doctors.updateDoctor', 'doctors.setWeeklySchedule', 'doctors.deactivateDoctor', 'doctors.activateDoctor',
]);

beforeAll(async () => {
  graph = await startTestGraph([accountsSubgraph, patientsSubgraph, doctorsSubgraph]);
  tokens.SUPER_ADMIN = await graph.login(graph.cfg.SUPERADMIN_EMAIL, graph.cfg.SUPERADMIN_PASSWORD);
  ids.own = await register('Own');
  ids.foreign = await register('Foreign');
  const doc = await graph.as<{ createDoctor: { id: string } }>(tokens.SUPER_ADMIN, `mutation { createDoctor(input: { firstName: "Dee", lastName: "Access", specialty: "Cardiology", timeZone: "Europe/Berlin" }) { id } }`);
  ids.doctor = doc.data!.createDoctor.id;
  await treat(ids.own);
  const users: [Role, Record<string, string>][] = [
    ['ADMIN', {}],
    ['NURSE', {}],
    ['PHARMACIST', {}],
    ['DOCTOR', { doctorId: ids.doctor }],
    ['PATIENT', { patientId: ids.own }],
  ];
  for (const [role, link] of users) {
    const email = `${role.toLowerCase()}@suite.example`;
    const created = await graph.as<{ createUser: { id: string } }>(tokens.SUPER_ADMIN, `mutation C($i: CreateUserInput!) { createUser(input: $i) { id } }`, {
      i: { email, password: PASSWORD, role, ...link },
    });
    if (role === 'PATIENT') ids.patientUser = created.data!.createUser.id;
    tokens[role] = await graph.login(email, PASSWORD);
  }
});
afterAll(() => graph.stop());

const ROLES: Role[] = ['SUPER_ADMIN', 'ADMIN', 'NURSE', 'PHARMACIST', 'DOCTOR', 'PATIENT'];
const cases = Object.entries(OPS).flatMap(([name, op]) =>
  ROLES.flatMap((role) => (['own', 'foreign'] as Target[]).map((t, i) => [name, role, t, op.expect[role][i]] as const)),
);

describe('access suite', () => {
  it.each(cases)('%s as %s on a %s record → allowed: %s', async (name, role, target, allowed) => {
    const op = OPS[name];
    const id = op.target ? await op.target(target, role) : ids[target];
    const res = await op.run(tokens[role], id);
    expect((op.outcome ?? defaultOutcome)(res, id)).toBe(allowed ? 'allowed' : 'denied');
    if (!allowed) expect(JSON.stringify(res.data ?? {})).not.toContain(id === ids.foreign ? 'Foreign' : '"name"');
  });

  it('a patient reaches their own record through a nested field of another subgraph, and only that', async () => {
    const res = await graph.as<{ me: { patient: { id: string; medicalHistory: unknown[] } } }>(tokens.PATIENT, '{ me { patient { id name medicalHistory { condition } } } }');
    expect(res.errors).toBeUndefined();
    expect(res.data!.me.patient.id).toBe(ids.own);
    const viaAdmin = await graph.as(tokens.PATIENT, `{ user(id: "${ids.patientUser}") { patient { id } } }`);
    expect(viaAdmin.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('anonymous callers get UNAUTHENTICATED for every patient operation', async () => {
    for (const op of Object.values(OPS)) {
      const res = await op.run('', ids.own);
      expect(res.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      expect(JSON.stringify(res.data ?? null)).not.toContain(ids.own);
    }
  });

  it('covers every root field of every subgraph: a new one must be given access rows or declared free of patient data', () => {
    const covered = new Set(Object.values(OPS).map((o) => `patients.${o.field}`));
    const unclassified: string[] = [];
    for (const name of SUBGRAPHS) {
      const doc = parse(readFileSync(path.join(__dirname, '..', 'subgraphs', name, 'schema.graphql'), 'utf8'));
      for (const def of doc.definitions) {
        if ((def.kind !== Kind.OBJECT_TYPE_DEFINITION && def.kind !== Kind.OBJECT_TYPE_EXTENSION) || !['Query', 'Mutation'].includes(def.name.value)) continue;
        for (const f of def.fields ?? []) {
          const key = `${name}.${f.name.value}`;
          if (!covered.has(key) && !NOT_PATIENT_DATA.has(key)) unclassified.push(key);
        }
      }
    }
    expect(unclassified).toEqual([]);
  });
});

describe('PHI audit trail', () => {
  const AUDIT = `query A($f: AuditFilter) { auditLog(filter: $f, first: 100) { edges { node { userId role entityId operation outcome fields requestId service } } } }`;
  type Entry = { role: string; entityId: string; operation: string; outcome: string; fields: string[]; requestId: string; service: string };

  it('records reads, writes and denied attempts with who, what and the request id', async () => {
    await graph.as(tokens.NURSE, `{ patient(id: "${ids.foreign}") { name allergies } }`);
    await graph.as(tokens.PATIENT, `{ patient(id: "${ids.foreign}") { name } }`);
    await graph.as(tokens.ADMIN, `mutation { updatePatient(id: "${ids.foreign}", input: { email: "f@mail.example" }) { id } }`);
    await graph.as(tokens.NURSE, `mutation { updatePatient(id: "${ids.foreign}", input: { email: "x@mail.example" }) { id } }`);

    const res = await graph.as<{ auditLog: { edges: { node: Entry }[] } }>(tokens.SUPER_ADMIN, AUDIT, { f: { entityId: ids.foreign } });
    expect(res.errors).toBeUndefined();
    const entries = res.data!.auditLog.edges.map((e) => e.node);
    const has = (e: Partial<Entry>) => entries.some((x) => Object.entries(e).every(([k, v]) => JSON.stringify(x[k as keyof Entry]) === JSON.stringify(v)));
    expect(has({ role: 'NURSE', operation: 'READ', outcome: 'ALLOWED', fields: ['name', 'allergies'] })).toBe(true);
    expect(has({ role: 'PATIENT', operation: 'READ', outcome: 'DENIED' })).toBe(true);
    expect(has({ role: 'ADMIN', operation: 'UPDATE', outcome: 'ALLOWED', fields: ['email'] })).toBe(true);
    expect(has({ role: 'NURSE', operation: 'UPDATE', outcome: 'DENIED', fields: ['email'] })).toBe(true);
    expect(entries.every((e) => e.service === 'patients' && e.requestId.length > 0)).toBe(true);
    // Not a single allowed read of the foreign record by the patient, over the whole suite.
    expect(has({ role: 'PATIENT', operation: 'READ', outcome: 'ALLOWED' })).toBe(false);
  });

  it('is for the super admin only', async () => {
    const res = await graph.as(tokens.ADMIN, AUDIT, {});
    expect(res.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});
