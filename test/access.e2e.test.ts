import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Kind, parse } from 'graphql';
import { AUDIT_DB, auditModel } from '../platform/audit';
import { dbName } from '../platform/config';
import type { Role } from '../platform/identity';
import { SUBGRAPHS } from '../platform/services';
import { accountsSubgraph } from '../subgraphs/accounts/index';
import { analyticsSubgraph } from '../subgraphs/analytics/index';
import { appointmentsSubgraph } from '../subgraphs/appointments/index';
import { medicationsSubgraph } from '../subgraphs/medications/index';
import { notificationsSubgraph } from '../subgraphs/notifications/index';
import { doctorsSubgraph } from '../subgraphs/doctors/index';
import { patientsSubgraph } from '../subgraphs/patients/index';
import { ROLES, createCareRelation, defaultOutcome, type AccessEnv, type AccessRows, type Op, type Target } from './access/env';
import { analyticsRows } from './access/analytics.rows';
import { appointmentRows } from './access/appointments.rows';
import { medicationRows } from './access/medications.rows';
import { notificationRows } from './access/notifications.rows';
import { patientRows, staffRows } from './access/patients.rows';
import { callSubgraph, startTestGraph } from './helpers';

/**
 * The access suite: every query and mutation that touches patient data, tried by every role
 * against an own and a foreign record (rows per service in test/access/*.rows.ts).
 */
const MODULES: AccessRows[] = [staffRows, patientRows, appointmentRows, medicationRows, notificationRows, analyticsRows];
const PASSWORD = 'access-suite-password';
const env = { tokens: {}, ids: { own: '', foreign: '', doctor: '', patientUser: '' } } as AccessEnv;
let ops: Record<string, Op> = {};

beforeAll(async () => {
  const graph = await startTestGraph([accountsSubgraph, patientsSubgraph, doctorsSubgraph, appointmentsSubgraph, medicationsSubgraph, notificationsSubgraph, analyticsSubgraph]);
  env.graph = graph;
  env.tokens.SUPER_ADMIN = await graph.login(graph.cfg.SUPERADMIN_EMAIL, graph.cfg.SUPERADMIN_PASSWORD);
  env.register = async (firstName) => {
    const res = await graph.as<{ registerPatient: { id: string } }>(env.tokens.SUPER_ADMIN, `mutation R($i: RegisterPatientInput!) { registerPatient(input: $i) { id } }`, {
      i: { firstName, lastName: 'Suite', dateOfBirth: '1970-01-01', sex: 'UNKNOWN' },
    });
    return res.data!.registerPatient.id;
  };
  env.treat = (patientId) => createCareRelation(graph, patientId, env.ids.doctor);
  env.ids.own = await env.register('Own');
  env.ids.foreign = await env.register('Foreign');
  const doc = await graph.as<{ createDoctor: { id: string } }>(
    env.tokens.SUPER_ADMIN,
    `mutation { createDoctor(input: { firstName: "Dee", lastName: "Access", specialty: "Cardiology", timeZone: "Europe/Berlin" }) { id } }`,
  );
  env.ids.doctor = doc.data!.createDoctor.id;
  await env.treat(env.ids.own);
  const users: [Role, Record<string, string>][] = [
    ['ADMIN', {}],
    ['NURSE', {}],
    ['PHARMACIST', {}],
    ['DOCTOR', { doctorId: env.ids.doctor }],
    ['PATIENT', { patientId: env.ids.own }],
  ];
  for (const [role, link] of users) {
    const email = `${role.toLowerCase()}@suite.example`;
    const created = await graph.as<{ createUser: { id: string } }>(env.tokens.SUPER_ADMIN, `mutation C($i: CreateUserInput!) { createUser(input: $i) { id } }`, {
      i: { email, password: PASSWORD, role, ...link },
    });
    if (role === 'PATIENT') env.ids.patientUser = created.data!.createUser.id;
    env.tokens[role] = await graph.login(email, PASSWORD);
  }
  for (const m of MODULES) await m.setup?.(env);
  ops = Object.assign({}, ...MODULES.map((m) => m.ops(env)));
});
afterAll(() => env.graph.stop());

// Row names are known before setup: ops(env) only builds closures.
const ROW_NAMES = MODULES.flatMap((m) => Object.entries(m.ops(env)).map(([name, op]) => [name, op.expect] as const));
const cases = ROW_NAMES.flatMap(([name, expectFor]) =>
  ROLES.flatMap((role) => (['own', 'foreign'] as Target[]).map((t, i) => [name, role, t, expectFor[role][i]] as const)),
);

describe('access suite', () => {
  it.each(cases)('%s as %s on a %s record → allowed: %s', async (name, role, target, allowed) => {
    const op = ops[name];
    const id = op.target ? await op.target(target, role) : env.ids[target];
    const res = await op.run(env.tokens[role], id);
    expect((op.outcome ?? defaultOutcome)(res, id)).toBe(allowed ? 'allowed' : 'denied');
  });

  it('a patient reaches their own record through a nested field of another subgraph, and only that', async () => {
    const res = await env.graph.as<{ me: { patient: { id: string } } }>(env.tokens.PATIENT, '{ me { patient { id name medicalHistory { condition } } } }');
    expect(res.errors).toBeUndefined();
    expect(res.data!.me.patient.id).toBe(env.ids.own);
    const viaUser = await env.graph.as(env.tokens.PATIENT, `{ user(id: "${env.ids.patientUser}") { patient { id } } }`);
    expect(viaUser.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('anonymous callers get UNAUTHENTICATED for every patient operation', async () => {
    for (const op of Object.values(ops)) {
      const res = await op.run('', env.ids.own);
      expect(res.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      expect(JSON.stringify(res.data ?? null)).not.toContain(env.ids.own);
    }
  });

  it('internal fields are not part of the public graph, and subgraphs refuse them to users', async () => {
    for (const { field, query } of MODULES.flatMap((m) => m.internal ?? [])) {
      const viaRouter = await env.graph.as(env.tokens.SUPER_ADMIN, query);
      expect(viaRouter.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
      const sub = env.graph.subgraphs[field.split('.')[0] as keyof typeof env.graph.subgraphs]!;
      const asUser = await callSubgraph(sub, env.graph.cfg, query, {}, { userId: 'u', role: 'SUPER_ADMIN' });
      expect(asUser.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
  });

  it('covers every root field of every subgraph: a new one must get access rows or be declared free of patient data', () => {
    const covered = new Set([
      ...MODULES.flatMap((m) => Object.values(m.ops(env)).map((o) => o.field)),
      ...MODULES.flatMap((m) => m.notPatientData ?? []),
      ...MODULES.flatMap((m) => (m.internal ?? []).map((i) => i.field)),
    ]);
    const unclassified: string[] = [];
    for (const name of SUBGRAPHS) {
      const doc = parse(readFileSync(path.join(__dirname, '..', 'subgraphs', name, 'schema.graphql'), 'utf8'));
      for (const def of doc.definitions) {
        if ((def.kind !== Kind.OBJECT_TYPE_DEFINITION && def.kind !== Kind.OBJECT_TYPE_EXTENSION) || !['Query', 'Mutation'].includes(def.name.value)) continue;
        for (const f of def.fields ?? []) if (!covered.has(`${name}.${f.name.value}`)) unclassified.push(`${name}.${f.name.value}`);
      }
    }
    expect(unclassified).toEqual([]);
  });
});

describe('PHI audit trail', () => {
  const AUDIT = `query A($f: AuditFilter) { auditLog(filter: $f, first: 100) { edges { node { userId role entityId operation outcome fields requestId service } } } }`;
  type Entry = { role: string; entityId: string; operation: string; outcome: string; fields: string[]; requestId: string; service: string };

  it('records reads, writes and denied attempts with who, what and the request id', async () => {
    const { graph, tokens, ids } = env;
    await graph.as(tokens.NURSE, `{ patient(id: "${ids.foreign}") { name allergies } }`);
    await graph.as(tokens.PATIENT, `{ patient(id: "${ids.foreign}") { name } }`);
    await graph.as(tokens.ADMIN, `mutation { updatePatient(id: "${ids.foreign}", input: { email: "f@mail.example" }) { id } }`);
    await graph.as(tokens.NURSE, `mutation { updatePatient(id: "${ids.foreign}", input: { email: "x@mail.example" }) { id } }`);

    const res = await graph.as<{ auditLog: { edges: { node: Entry }[] } }>(tokens.SUPER_ADMIN, AUDIT, { f: { entityId: ids.foreign, entityType: 'Patient' } });
    expect(res.errors).toBeUndefined();
    const entries = res.data!.auditLog.edges.map((e) => e.node);
    const has = (e: Partial<Entry>) => entries.some((x) => Object.entries(e).every(([k, v]) => JSON.stringify(x[k as keyof Entry]) === JSON.stringify(v)));
    expect(has({ role: 'NURSE', operation: 'READ', outcome: 'ALLOWED', fields: ['name', 'allergies'] })).toBe(true);
    expect(has({ role: 'PATIENT', operation: 'READ', outcome: 'DENIED' })).toBe(true);
    expect(has({ role: 'ADMIN', operation: 'UPDATE', outcome: 'ALLOWED', fields: ['email'] })).toBe(true);
    expect(has({ role: 'NURSE', operation: 'UPDATE', outcome: 'DENIED', fields: ['email'] })).toBe(true);
    expect(entries.every((e) => e.requestId.length > 0)).toBe(true);
    // Other services audit only what they refused of this patient: Patient.appointments, Patient.visitSummary.
    const elsewhere = entries.filter((e) => e.service !== 'patients');
    expect(elsewhere.every((e) => e.outcome === 'DENIED' && e.fields.length === 1 && ['appointments', 'visitSummary'].includes(e.fields[0]))).toBe(true);
    // Not a single allowed read of the foreign record by the patient, over the whole suite.
    expect(has({ role: 'PATIENT', operation: 'READ', outcome: 'ALLOWED' })).toBe(false);
  });

  it('over the whole suite, lists no refused field as ALLOWED and audits every refused one DENIED with the record id', async () => {
    const model = await auditModel(env.graph.subgraphs.patients!.conn, dbName(env.graph.cfg, AUDIT_DB));
    const pharmacist = await model.find({ role: 'PHARMACIST', entityType: 'Patient', operation: 'READ' }, { _id: 0, entityId: 1, outcome: 1, fields: 1, service: 1 }).lean();
    const clinical = ['medicalHistory', 'labResults', 'appointments', 'visitSummary'];
    expect(pharmacist.filter((e) => e.outcome === 'ALLOWED' && e.fields.some((f) => clinical.includes(f)))).toEqual([]);
    for (const id of [env.ids.own, env.ids.foreign]) {
      const refused = pharmacist.filter((e) => e.outcome === 'DENIED' && e.entityId === id).flatMap((e) => e.fields.map((f) => `${e.service}:${f}`));
      expect(new Set(refused)).toEqual(new Set(['patients:medicalHistory', 'patients:labResults', 'appointments:appointments', 'analytics:visitSummary']));
    }
  });

  it('is for the super admin only', async () => {
    const res = await env.graph.as(env.tokens.ADMIN, AUDIT, {});
    expect(res.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});
