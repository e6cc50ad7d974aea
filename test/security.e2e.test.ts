import type { Model } from 'mongoose';
import { AUDIT_DB, auditModel, type AuditRecordDoc } from '../platform/audit';
import { dbName } from '../platform/config';
import { accountsSubgraph } from '../subgraphs/accounts/index';
import { analyticsSubgraph } from '../subgraphs/analytics/index';
import { appointmentsSubgraph } from '../subgraphs/appointments/index';
import { doctorsSubgraph } from '../subgraphs/doctors/index';
import { patientsSubgraph } from '../subgraphs/patients/index';
import { startTestGraph, type TestGraph } from './helpers';

/**
 * Security hardening through the real router, subgraphs and database: the PHI audit trail of denied
 * fields (read from the audit collection), the router's own request id, and user mistakes answered
 * with HTTP 400 instead of 500.
 */
let graph: TestGraph;
let audit: Model<AuditRecordDoc>;
const tokens: Record<'SUPER_ADMIN' | 'NURSE' | 'PHARMACIST', string> = { SUPER_ADMIN: '', NURSE: '', PHARMACIST: '' };
let patientId = '';
let doctorId = '';

interface Answer {
  status: number;
  /** The router's request id (response header x-request-id). */
  requestId: string | null;
  text: string;
  body: { data?: Record<string, unknown> | null; errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[] };
}

/** POSTs a GraphQL request to the router as is (operationName included) and keeps the response headers. */
async function post(token: string, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(graph.router.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, requestId: res.headers.get('x-request-id'), text, body: JSON.parse(text) as Answer['body'] };
}

/** Audit entries of one request (stored before the subgraph answered the router). */
const entriesOf = (requestId: string | null) => audit.find({ requestId: requestId ?? '' }, { _id: 0, at: 0 }).lean();

beforeAll(async () => {
  graph = await startTestGraph([accountsSubgraph, patientsSubgraph, doctorsSubgraph, appointmentsSubgraph, analyticsSubgraph]);
  audit = await auditModel(graph.subgraphs.patients!.conn, dbName(graph.cfg, AUDIT_DB));
  tokens.SUPER_ADMIN = await graph.login(graph.cfg.SUPERADMIN_EMAIL, graph.cfg.SUPERADMIN_PASSWORD);
  for (const role of ['NURSE', 'PHARMACIST'] as const) {
    const email = `${role.toLowerCase()}@security.example`;
    const created = await graph.as(tokens.SUPER_ADMIN, `mutation C($i: CreateUserInput!) { createUser(input: $i) { id } }`, {
      i: { email, password: 'security-suite-password', role },
    });
    expect(created.errors).toBeUndefined();
    tokens[role] = await graph.login(email, 'security-suite-password');
  }
  const patient = await graph.as<{ registerPatient: { id: string } }>(tokens.SUPER_ADMIN, `mutation R($i: RegisterPatientInput!) { registerPatient(input: $i) { id } }`, {
    i: { firstName: 'Audit', lastName: 'Trail', dateOfBirth: '1970-01-01', sex: 'UNKNOWN' },
  });
  patientId = patient.data!.registerPatient.id;
  const doctor = await graph.as<{ createDoctor: { id: string } }>(
    tokens.SUPER_ADMIN,
    `mutation { createDoctor(input: { firstName: "Dora", lastName: "Audit", specialty: "Cardiology", timeZone: "Europe/Berlin" }) { id } }`,
  );
  doctorId = doctor.data!.createDoctor.id;
});
afterAll(() => graph.stop());

describe('PHI audit trail of denied reads', () => {
  it("records a pharmacist's denied labResults as DENIED with the patient's id, never as ALLOWED", async () => {
    const res = await post(tokens.PHARMACIST, { query: `{ patient(id: "${patientId}") { id name labResults { test value } } }` });
    expect(res.body.errors?.[0]).toMatchObject({ path: ['patient', 'labResults'], extensions: { code: 'FORBIDDEN' } });
    const entries = await entriesOf(res.requestId);
    expect(entries).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ service: 'patients', role: 'PHARMACIST', entityType: 'Patient', entityId: patientId, operation: 'READ', outcome: 'ALLOWED', fields: ['id', 'name'] }),
        expect.objectContaining({ service: 'patients', role: 'PHARMACIST', entityType: 'Patient', entityId: patientId, operation: 'READ', outcome: 'DENIED', fields: ['labResults'] }),
      ]),
    );
    expect(entries.filter((e) => e.outcome === 'ALLOWED' && e.fields.includes('labResults'))).toEqual([]);

    // Only the refused field selected: one DENIED entry and no ALLOWED one.
    const only = await post(tokens.PHARMACIST, { query: `{ patient(id: "${patientId}") { labResults { test } } }` });
    expect(only.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(await entriesOf(only.requestId)).toEqual([
      expect.objectContaining({ entityType: 'Patient', entityId: patientId, operation: 'READ', outcome: 'DENIED', fields: ['labResults'] }),
    ]);
  });

  it("records denied Patient.appointments and Doctor.appointments with the patient's and the doctor's id", async () => {
    const ofPatient = await post(tokens.PHARMACIST, { query: `{ patient(id: "${patientId}") { id appointments { edges { node { id } } } } }` });
    expect(ofPatient.body.errors?.[0]).toMatchObject({ path: ['patient', 'appointments'], extensions: { code: 'FORBIDDEN' } });
    expect(await entriesOf(ofPatient.requestId)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ service: 'appointments', role: 'PHARMACIST', entityType: 'Patient', entityId: patientId, operation: 'READ', outcome: 'DENIED', fields: ['appointments'] }),
      ]),
    );

    const from = new Date().toISOString();
    const to = new Date(Date.now() + 86_400_000).toISOString();
    const ofDoctor = await post(tokens.PHARMACIST, { query: `{ doctor(id: "${doctorId}") { id appointments(from: "${from}", to: "${to}") { id } } }` });
    expect(ofDoctor.body.errors?.[0]).toMatchObject({ path: ['doctor', 'appointments'], extensions: { code: 'FORBIDDEN' } });
    expect(await entriesOf(ofDoctor.requestId)).toEqual([
      expect.objectContaining({ service: 'appointments', role: 'PHARMACIST', entityType: 'Doctor', entityId: doctorId, operation: 'READ', outcome: 'DENIED', fields: ['appointments'] }),
    ]);
  });

  it('audits only the fields a request reads: what @include / @skip leave out is not listed', async () => {
    const query = `query P($id: ObjectID!, $allergies: Boolean!) { patient(id: $id) { id name allergies @include(if: $allergies) dateOfBirth @skip(if: true) } }`;
    const without = await post(tokens.NURSE, { query, variables: { id: patientId, allergies: false } });
    expect(without.body.errors).toBeUndefined();
    expect(without.body.data).toEqual({ patient: { id: patientId, name: 'Audit Trail' } });
    expect(await entriesOf(without.requestId)).toEqual([expect.objectContaining({ service: 'patients', entityType: 'Patient', entityId: patientId, outcome: 'ALLOWED', fields: ['id', 'name'] })]);

    const withAllergies = await post(tokens.NURSE, { query, variables: { id: patientId, allergies: true } });
    expect(withAllergies.body.errors).toBeUndefined();
    expect(await entriesOf(withAllergies.requestId)).toEqual([expect.objectContaining({ entityId: patientId, outcome: 'ALLOWED', fields: ['id', 'name', 'allergies'] })]);
  });

  it("records a denied visitSummary with the patient's id", async () => {
    const res = await post(tokens.NURSE, { query: `{ patient(id: "${patientId}") { id visitSummary { totalVisits } } }` });
    expect(res.body.errors?.[0]).toMatchObject({ path: ['patient', 'visitSummary'], extensions: { code: 'FORBIDDEN' } });
    expect(await entriesOf(res.requestId)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ service: 'analytics', role: 'NURSE', entityType: 'Patient', entityId: patientId, operation: 'READ', outcome: 'DENIED', fields: ['visitSummary'] }),
      ]),
    );
  });
});

describe('request ids', () => {
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
  const READ = () => ({ query: `{ patient(id: "${patientId}") { id name } }` });

  it("audits the router's own request id, with the client's x-request-id stored beside it", async () => {
    const res = await post(tokens.NURSE, READ(), { 'x-request-id': 'client-trace.42:a_b-C' });
    expect(res.body.errors).toBeUndefined();
    expect(res.requestId).toMatch(UUID);
    const entries = await entriesOf(res.requestId);
    expect(entries).toEqual([expect.objectContaining({ entityId: patientId, outcome: 'ALLOWED', requestId: res.requestId, clientRequestId: 'client-trace.42:a_b-C' })]);
    expect(await audit.countDocuments({ requestId: 'client-trace.42:a_b-C' })).toBe(0);
  });

  it.each([
    ['8 KB long', 'a'.repeat(8192)],
    ['129 characters', 'b'.repeat(129)],
    ['with odd characters', 'trace id <script>'],
  ])('replaces an x-request-id %s with its own and the call still works', async (_name, clientId) => {
    const res = await post(tokens.NURSE, READ(), { 'x-request-id': clientId });
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data).toEqual({ patient: { id: patientId, name: 'Audit Trail' } });
    expect(res.requestId).toMatch(UUID);
    const entries = await entriesOf(res.requestId);
    expect(entries).toHaveLength(1);
    expect(entries[0]).not.toHaveProperty('clientRequestId');
  });
});

describe('user mistakes are HTTP 400 with a code, never 500', () => {
  const expect400 = (res: Answer, reason: string) => {
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', reason });
    expect(res.text).not.toMatch(/stacktrace|\bat .*\.(ts|js):\d+/);
  };

  it('two operations and no operationName', async () => {
    expect400(await post(tokens.NURSE, { query: 'query A { specialties } query B { specialties }' }), 'OPERATION_NAME_REQUIRED');
  });

  it('an operationName that is not in the document', async () => {
    expect400(await post(tokens.NURSE, { query: 'query A { specialties } query B { specialties }', operationName: 'C' }), 'UNKNOWN_OPERATION_NAME');
    expect400(await post(tokens.NURSE, { query: '{ specialties }', operationName: 'Missing' }), 'UNKNOWN_OPERATION_NAME');
  });

  it('a subscription over HTTP POST', async () => {
    const res = await post(tokens.NURSE, { query: `subscription { appointmentChanged(doctorId: "${doctorId}") { id } }` });
    expect400(res, 'SUBSCRIPTION_OVER_HTTP');
    expect(res.body.errors?.[0]?.message).toMatch(/WebSocket/);
  });

  it('still runs the named operation of several', async () => {
    const res = await post(tokens.NURSE, { query: 'query A { specialties } query B { specialties }', operationName: 'B' });
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
  });
});
