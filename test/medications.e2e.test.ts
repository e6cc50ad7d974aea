import type { MedicationDoc, DispensationDoc } from '../subgraphs/medications/model';
import { accountsSubgraph } from '../subgraphs/accounts/index';
import { doctorsSubgraph } from '../subgraphs/doctors/index';
import { medicationsSubgraph } from '../subgraphs/medications/index';
import { patientsSubgraph } from '../subgraphs/patients/index';
import { createCareRelation } from './access/env';
import { startTestGraph, type GraphQLResponse, type TestGraph } from './helpers';

/** Medications through the router: real HTTP, real database, four subgraphs. */
let graph: TestGraph;
let token: string;
const gql: TestGraph['gql'] = (query, variables) => graph.as(token, query, variables);
let patientId: string;
let doctorId: string;

const REGISTER = `mutation R($i: RegisterPatientInput!) { registerPatient(input: $i) { id } }`;
const CREATE_DOCTOR = `mutation D($i: CreateDoctorInput!) { createDoctor(input: $i) { id } }`;
const ADD_MEDICATION = `mutation M($i: AddMedicationInput!) { addMedication(input: $i) { id name stockOnHand reorderLevel lowStock } }`;
const PRESCRIBE = `mutation P($i: PrescribeInput!) {
  prescribe(input: $i) { id status refillsAllowed refillsRemaining fillsRemaining patient { id } prescriber { id } medication { id name } }
}`;
const DISPENSE = `mutation X($p: ObjectID!, $q: PositiveInt!) {
  dispense(prescriptionId: $p, quantity: $q) { id quantity prescription { fillsDispensed refillsRemaining status } medication { stockOnHand lowStock } }
}`;

let codes = 0;
async function addMedication(stockOnHand: number, reorderLevel: number, name = 'Amoxicillin'): Promise<string> {
  const res = await gql<{ addMedication: { id: string } }>(ADD_MEDICATION, {
    i: { name, form: 'CAPSULE', strength: '500 mg', code: `E2E-${++codes}`, unit: 'capsule', stockOnHand, reorderLevel },
  });
  expect(res.errors).toBeUndefined();
  return res.data!.addMedication.id;
}
async function prescribe(medicationId: string, refillsAllowed = 0, patient = patientId): Promise<string> {
  const res = await gql<{ prescribe: { id: string } }>(PRESCRIBE, {
    i: { patientId: patient, doctorId, medicationId, dosage: '1 capsule', frequency: 'three times daily', startDate: '2026-03-01', endDate: '2026-03-10', refillsAllowed },
  });
  expect(res.errors).toBeUndefined();
  return res.data!.prescribe.id;
}
const stockOf = async (id: string) => (await gql<{ medication: { stockOnHand: number } }>(`{ medication(id: "${id}") { stockOnHand } }`)).data!.medication.stockOnHand;
const prescriptionCount = async () => graph.subgraphs.medications!.conn.model('Prescription').countDocuments();

function expectCleanError(res: GraphQLResponse, code: string, message?: RegExp): void {
  expect(res.status).toBeLessThan(500);
  expect(res.errors?.[0]?.extensions?.code).toBe(code);
  if (message) expect(res.errors![0].message).toMatch(message);
  expect(JSON.stringify(res.errors)).not.toMatch(/stacktrace|    at |node_modules|Mongo|SQLite/);
}

beforeAll(async () => {
  graph = await startTestGraph([accountsSubgraph, patientsSubgraph, doctorsSubgraph, medicationsSubgraph]);
  token = await graph.login(graph.cfg.SUPERADMIN_EMAIL, graph.cfg.SUPERADMIN_PASSWORD);
  const p = await gql<{ registerPatient: { id: string } }>(REGISTER, { i: { firstName: 'Mia', lastName: 'Schneider', dateOfBirth: '1986-04-12', sex: 'FEMALE' } });
  patientId = p.data!.registerPatient.id;
  const d = await gql<{ createDoctor: { id: string } }>(CREATE_DOCTOR, { i: { firstName: 'Amara', lastName: 'Okafor', specialty: 'Cardiology', timeZone: 'Europe/Berlin' } });
  doctorId = d.data!.createDoctor.id;
});
afterAll(() => graph.stop());

describe('medications through the router', () => {
  it('prescribes, and answers one query across patients, doctors and medications', async () => {
    const medicationId = await addMedication(30, 5, 'Ramipril');
    const res = await gql<{ prescribe: Record<string, unknown> }>(PRESCRIBE, {
      i: { patientId, doctorId, medicationId, dosage: '1 tablet', frequency: 'once daily', startDate: '2026-03-01', refillsAllowed: 2 },
    });
    expect(res.errors).toBeUndefined();
    expect(res.data!.prescribe).toMatchObject({
      status: 'ACTIVE',
      refillsAllowed: 2,
      refillsRemaining: 2,
      fillsRemaining: 3,
      patient: { id: patientId },
      prescriber: { id: doctorId },
      medication: { id: medicationId, name: 'Ramipril' },
    });

    const across = await gql<{ patient: { name: string; prescriptions: { dosage: string; prescriber: { name: string }; medication: { name: string } }[] } }>(
      `{ patient(id: "${patientId}") { name prescriptions { dosage prescriber { name } medication { name } } } }`,
    );
    expect(across.errors).toBeUndefined();
    expect(across.data!.patient).toEqual({
      name: 'Mia Schneider',
      prescriptions: [{ dosage: '1 tablet', prescriber: { name: 'Dr. Amara Okafor' }, medication: { name: 'Ramipril' } }],
    });
    const active = await gql<{ patient: { prescriptions: unknown[] } }>(`{ patient(id: "${patientId}") { prescriptions(status: CANCELLED) { id } } }`);
    expect(active.data!.patient.prescriptions).toEqual([]);
  });

  it('50 parallel dispenses against a stock of 10: exactly 10 succeed, 40 are refused, stock ends at 0', async () => {
    const medicationId = await addMedication(10, 3);
    const prescriptions = await Promise.all([0, 1, 2, 3, 4].map(() => prescribe(medicationId, 9))); // 50 fills in all
    const answers = await Promise.all(Array.from({ length: 50 }, (_v, i) => gql(DISPENSE, { p: prescriptions[i % 5], q: 1 })));
    const ok = answers.filter((a) => a.data && !a.errors);
    const refused = answers.filter((a) => a.errors);
    expect(ok).toHaveLength(10);
    expect(refused).toHaveLength(40);
    for (const a of refused) expectCleanError(a, 'CONFLICT', /Not enough Amoxicillin 500 mg in stock|changed while dispensing/);

    const after = await gql<{ medication: { stockOnHand: number; lowStock: boolean } }>(`{ medication(id: "${medicationId}") { stockOnHand lowStock } }`);
    expect(after.data!.medication).toEqual({ stockOnHand: 0, lowStock: true });
    const fills = await gql<{ prescriptions: { edges: { node: { id: string; fillsDispensed: number; fillsRemaining: number } }[] } }>(
      `{ prescriptions(patientId: "${patientId}", first: 100) { edges { node { id fillsDispensed fillsRemaining } } } }`,
    );
    const used = fills.data!.prescriptions.edges.map((e) => e.node).filter((n) => prescriptions.includes(n.id));
    expect(used).toHaveLength(5);
    expect(used.reduce((n, p) => n + p.fillsDispensed, 0)).toBe(10);
    expect(used.every((p) => p.fillsDispensed + p.fillsRemaining === 10)).toBe(true);

    const conn = graph.subgraphs.medications!.conn;
    const med = await conn.model<MedicationDoc>('Medication').findById(medicationId).lean();
    expect(med!.outbox.filter((e) => e.type === 'LOW_STOCK')).toHaveLength(1);
    expect(med!.pendingDispensations).toEqual([]);
    const unfinished = await conn.model<DispensationDoc>('Dispensation').countDocuments({ medicationId, status: { $in: ['PENDING', 'ROLLING_BACK'] } });
    expect(unfinished).toBe(0);
  });

  it('a doctor prescribes as themselves, for a patient they treat', async () => {
    const medicationId = await addMedication(5, 0);
    await gql(`mutation C($i: CreateUserInput!) { createUser(input: $i) { id } }`, {
      i: { email: 'dr.okafor@e2e.example', password: 'doctor-password-1', role: 'DOCTOR', doctorId },
    });
    const doctor = await graph.login('dr.okafor@e2e.example', 'doctor-password-1');
    const input = { patientId, medicationId, dosage: '2 puffs', frequency: 'as needed', startDate: '2026-04-01' };
    expectCleanError(await graph.as(doctor, PRESCRIBE, { i: input }), 'FORBIDDEN');
    await createCareRelation(graph, patientId, doctorId);
    const res = await graph.as<{ prescribe: { prescriber: { id: string } } }>(doctor, PRESCRIBE, { i: input });
    expect(res.errors).toBeUndefined();
    expect(res.data!.prescribe.prescriber.id).toBe(doctorId);
  });

  it('audits every prescription read', async () => {
    const id = await prescribe(await addMedication(1, 0));
    await gql(`{ prescription(id: "${id}") { dosage status } }`);
    const log = await gql<{ auditLog: { edges: { node: { operation: string; outcome: string; service: string; fields: string[] } }[] } }>(
      `query A($f: AuditFilter) { auditLog(filter: $f, first: 50) { edges { node { operation outcome service fields } } } }`,
      { f: { entityType: 'Prescription', entityId: id } },
    );
    const entries = log.data!.auditLog.edges.map((e) => e.node);
    expect(entries).toContainEqual({ operation: 'CREATE', outcome: 'ALLOWED', service: 'medications', fields: expect.arrayContaining(['patientId', 'dosage']) });
    expect(entries).toContainEqual({ operation: 'READ', outcome: 'ALLOWED', service: 'medications', fields: ['dosage', 'status'] });
  });
});

describe('bad input through the router: a coded error, never a 500, nothing half-written', () => {
  let medicationId: string;
  const valid = () => ({ patientId, doctorId, medicationId, dosage: '1 tablet', frequency: 'daily', startDate: '2026-05-01' });
  beforeAll(async () => {
    medicationId = await addMedication(5, 1, 'Metformin');
  });

  it.each([
    ['a missing required field', () => ({ patientId, doctorId, medicationId, frequency: 'daily', startDate: '2026-05-01' }), 'BAD_USER_INPUT'],
    ['an empty dosage', () => ({ ...valid(), dosage: '  ' }), 'BAD_USER_INPUT'],
    ['an impossible date', () => ({ ...valid(), startDate: '2026-02-30' }), 'BAD_USER_INPUT'],
    ['a malformed id', () => ({ ...valid(), patientId: 'nope' }), 'BAD_USER_INPUT'],
    ['an end before the start', () => ({ ...valid(), endDate: '2026-04-30' }), 'BAD_USER_INPUT'],
    ['too many refills', () => ({ ...valid(), refillsAllowed: 13 }), 'BAD_USER_INPUT'],
    ['no prescribing doctor named by an administrator', () => ({ ...valid(), doctorId: undefined }), 'BAD_USER_INPUT'],
    ['an unknown patient', () => ({ ...valid(), patientId: '65d0000000000000000000f1' }), 'NOT_FOUND'],
    ['an unknown doctor', () => ({ ...valid(), doctorId: '65d0000000000000000000f2' }), 'NOT_FOUND'],
    ['an unknown medication', () => ({ ...valid(), medicationId: '65d0000000000000000000f3' }), 'NOT_FOUND'],
  ])('prescribing with %s', async (_label, input, code) => {
    const before = await prescriptionCount();
    expectCleanError(await gql(PRESCRIBE, { i: input() }), code);
    expect(await prescriptionCount()).toBe(before);
  });

  it('prescribing for an inactive doctor', async () => {
    const d = await gql<{ createDoctor: { id: string } }>(CREATE_DOCTOR, { i: { firstName: 'Ina', lastName: 'Ctive', specialty: 'Dermatology', timeZone: 'Europe/Berlin' } });
    const inactive = d.data!.createDoctor.id;
    await gql(`mutation { deactivateDoctor(id: "${inactive}") { id } }`);
    expectCleanError(await gql(PRESCRIBE, { i: { ...valid(), doctorId: inactive } }), 'BAD_USER_INPUT', /inactive/);
  });

  it('dispensing more than is in stock changes nothing', async () => {
    const id = await prescribe(medicationId, 1);
    const res = await gql(DISPENSE, { p: id, q: 6 });
    expectCleanError(res, 'CONFLICT', /Not enough Metformin 500 mg in stock: 5 capsule\(s\) on hand, 6 requested/);
    expect(await stockOf(medicationId)).toBe(5);
    const rx = await gql<{ prescription: { fillsDispensed: number; refillsRemaining: number } }>(`{ prescription(id: "${id}") { fillsDispensed refillsRemaining } }`);
    expect(rx.data!.prescription).toEqual({ fillsDispensed: 0, refillsRemaining: 1 });
  });

  it('a zero or negative quantity, an unknown prescription', async () => {
    const id = await prescribe(medicationId);
    expectCleanError(await gql(DISPENSE, { p: id, q: -2 }), 'BAD_USER_INPUT');
    expectCleanError(await gql(DISPENSE, { p: id, q: 0 }), 'BAD_USER_INPUT');
    const literal = await gql(`mutation { dispense(prescriptionId: "${id}", quantity: -2) { id } }`);
    expect(literal.status).toBeLessThan(500);
    expect(['BAD_USER_INPUT', 'GRAPHQL_VALIDATION_FAILED']).toContain(literal.errors?.[0]?.extensions?.code);
    expectCleanError(await gql(DISPENSE, { p: '65d0000000000000000000f4', q: 1 }), 'NOT_FOUND');
    expect(await stockOf(medicationId)).toBe(5);
  });

  it('cancelling twice, and dispensing a cancelled prescription', async () => {
    const id = await prescribe(medicationId, 3);
    const cancel = `mutation { cancelPrescription(id: "${id}", reason: "Side effects") { status cancelReason refillsRemaining } }`;
    const first = await gql<{ cancelPrescription: unknown }>(cancel);
    expect(first.data!.cancelPrescription).toEqual({ status: 'CANCELLED', cancelReason: 'Side effects', refillsRemaining: 3 });
    expectCleanError(await gql(cancel), 'CONFLICT', /already cancelled/);
    expectCleanError(await gql(DISPENSE, { p: id, q: 1 }), 'CONFLICT', /cancelled and cannot be dispensed/);
    expect(await stockOf(medicationId)).toBe(5);
  });

  it('refills used up', async () => {
    const id = await prescribe(medicationId, 0);
    const ok = await gql<{ dispense: { prescription: { status: string; refillsRemaining: number }; medication: { stockOnHand: number } } }>(DISPENSE, { p: id, q: 1 });
    expect(ok.data!.dispense).toMatchObject({ prescription: { status: 'COMPLETED', refillsRemaining: 0 }, medication: { stockOnHand: 4 } });
    expectCleanError(await gql(DISPENSE, { p: id, q: 1 }), 'CONFLICT', /no fills left/);
    expect(await stockOf(medicationId)).toBe(4);
  });

  it('catalogue mistakes', async () => {
    expectCleanError(await gql(`mutation { receiveStock(medicationId: "${medicationId}", input: { quantity: 0 }) { id } }`), 'GRAPHQL_VALIDATION_FAILED');
    expectCleanError(await gql(`mutation R($q: PositiveInt!) { receiveStock(medicationId: "${medicationId}", input: { quantity: $q }) { id } }`, { q: -5 }), 'BAD_USER_INPUT');
    expectCleanError(await gql(ADD_MEDICATION, { i: { name: 'Dup', form: 'TABLET', strength: '1 mg', code: 'E2E-1', unit: 'tablet', reorderLevel: 0 } }), 'CONFLICT', /already exists/);
    expectCleanError(await gql(ADD_MEDICATION, { i: { name: 'Neg', form: 'TABLET', strength: '1 mg', code: 'NEG-1', unit: 'tablet', reorderLevel: 0, stockOnHand: -1 } }), 'BAD_USER_INPUT');
    expectCleanError(await gql(ADD_MEDICATION, { i: { name: 'Form', form: 'POWDER', strength: '1 mg', code: 'F-1', unit: 'g', reorderLevel: 0 } }), 'BAD_USER_INPUT');
    expectCleanError(await gql(`{ medications(first: 101) { edges { node { id } } } }`), 'BAD_USER_INPUT', /first must be between 1 and 100/);
    expectCleanError(await gql(`{ medication(id: "65d0000000000000000000f5") { id } }`), 'NOT_FOUND');
    expect(await stockOf(medicationId)).toBe(4);
  });
});
