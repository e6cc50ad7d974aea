import { accountsSubgraph } from '../subgraphs/accounts/index';
import { doctorsSubgraph } from '../subgraphs/doctors/index';
import { patientsSubgraph } from '../subgraphs/patients/index';
import { postGraphQL, startTestGraph, type GraphQLResponse, type TestGraph } from './helpers';

/** The whole skeleton through the router: real HTTP, real database, both subgraphs. */
let graph: TestGraph;
let token: string;
/** Every call below is made as the super admin; access rules have their own suite. */
const gql: TestGraph['gql'] = (query, variables) => graph.as(token, query, variables);
beforeAll(async () => {
  graph = await startTestGraph([accountsSubgraph, patientsSubgraph, doctorsSubgraph]);
  token = await graph.login(graph.cfg.SUPERADMIN_EMAIL, graph.cfg.SUPERADMIN_PASSWORD);
});
afterAll(() => graph.stop());

const REGISTER = `mutation Register($input: RegisterPatientInput!) {
  registerPatient(input: $input) { id name email phone allergies }
}`;
const CREATE_DOCTOR = `mutation CreateDoctor($input: CreateDoctorInput!) {
  createDoctor(input: $input) { id name specialty timeZone weeklySchedule { weekday start end slotMinutes } }
}`;

function expectCleanError(res: GraphQLResponse, code: string): void {
  expect(res.status).toBeLessThan(500);
  expect(res.errors?.[0]?.extensions?.code).toBe(code);
  const text = JSON.stringify(res.errors);
  expect(text).not.toMatch(/stacktrace|    at |node_modules|Mongo/);
}

describe('federated graph through the router', () => {
  let patientId: string;
  let doctorId: string;

  it('registers a patient and a doctor, then answers one query across both subgraphs', async () => {
    const p = await gql<{ registerPatient: { id: string; name: string } }>(REGISTER, {
      input: { firstName: 'Mia', lastName: 'Schneider', dateOfBirth: '1986-04-12', sex: 'FEMALE', email: 'mia@mail.example', phone: '+4915112340001', allergies: ['Penicillin'] },
    });
    expect(p.errors).toBeUndefined();
    patientId = p.data!.registerPatient.id;
    expect(p.data!.registerPatient.name).toBe('Mia Schneider');

    const d = await gql<{ createDoctor: { id: string; name: string } }>(CREATE_DOCTOR, {
      input: {
        firstName: 'Amara',
        lastName: 'Okafor',
        specialty: 'Cardiology',
        timeZone: 'Europe/Berlin',
        weeklySchedule: ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'].map((weekday) => ({
          weekday,
          start: '08:00',
          end: '18:00',
          slotMinutes: 30,
        })),
      },
    });
    expect(d.errors).toBeUndefined();
    doctorId = d.data!.createDoctor.id;
    expect(d.data!.createDoctor.name).toBe('Dr. Amara Okafor');

    const both = await gql<{
      patients: { edges: { node: { id: string; name: string; allergies: string[] } }[] };
      doctors: { edges: { node: { id: string; specialty: string } }[] };
      specialties: string[];
    }>(`{ patients(first: 5) { edges { node { id name allergies } } } doctors(first: 5) { edges { node { id specialty } } } specialties }`);
    expect(both.errors).toBeUndefined();
    expect(both.data!.patients.edges.map((e) => e.node)).toEqual([{ id: patientId, name: 'Mia Schneider', allergies: ['Penicillin'] }]);
    expect(both.data!.doctors.edges.map((e) => e.node)).toEqual([{ id: doctorId, specialty: 'Cardiology' }]);
    expect(both.data!.specialties).toEqual(['Cardiology']);
  });

  it('changes a record through every patient mutation', async () => {
    const upd = await gql<{ updatePatient: { lastName: string; phone: string | null } }>(
      `mutation { updatePatient(id: "${patientId}", input: { lastName: "Schneider-Lang", phone: null }) { lastName phone } }`,
    );
    expect(upd.data?.updatePatient).toEqual({ lastName: 'Schneider-Lang', phone: null });

    await gql(`mutation { addMedicalHistoryEntry(patientId: "${patientId}", input: { condition: "Hypertension", diagnosedOn: "2019-03-02" }) { id } }`);
    const lab = await gql<{ addLabResult: { labResults: { test: string; abnormal: boolean }[]; medicalHistory: { condition: string }[] } }>(
      `mutation { addLabResult(patientId: "${patientId}", input: { test: "LDL", value: 190, unit: "mg/dL", referenceRange: { high: 130 }, takenAt: "2026-01-05T08:00:00Z" }) {
        labResults { test abnormal } medicalHistory { condition } } }`,
    );
    expect(lab.errors).toBeUndefined();
    expect(lab.data!.addLabResult).toEqual({ labResults: [{ test: 'LDL', abnormal: true }], medicalHistory: [{ condition: 'Hypertension' }] });
  });

  it('erases a patient record', async () => {
    const tmp = await gql<{ registerPatient: { id: string } }>(REGISTER, { input: { firstName: 'Del', lastName: 'Ete', dateOfBirth: '1990-01-01', sex: 'OTHER' } });
    const id = tmp.data!.registerPatient.id;
    const del = await gql<{ deletePatient: string }>(`mutation { deletePatient(id: "${id}") }`);
    expect(del.data?.deletePatient).toBe(id);
    expectCleanError(await gql(`{ patient(id: "${id}") { id } }`), 'NOT_FOUND');
  });
});

describe('bad input through the router answers with a coded error, never a 500 or a stack trace', () => {
  const valid = { firstName: 'Val', lastName: 'Id', dateOfBirth: '1990-01-01', sex: 'FEMALE' };
  it.each([
    ['an invalid email', { ...valid, email: 'not-an-email' }],
    ['an impossible date', { ...valid, dateOfBirth: '2020-02-31' }],
    ['a phone number that is not E.164', { ...valid, phone: '0301234' }],
    ['a missing required field', { firstName: 'Val', dateOfBirth: '1990-01-01', sex: 'FEMALE' }],
    ['an unknown enum value', { ...valid, sex: 'ROBOT' }],
    ['an empty name', { ...valid, firstName: '   ' }],
    ['a birth date in the future', { ...valid, dateOfBirth: '2999-01-01' }],
  ])('%s', async (_label, input) => {
    expectCleanError(await gql(REGISTER, { input }), 'BAD_USER_INPUT');
  });

  it('an invalid value written into the query text', async () => {
    const res = await gql(`mutation { registerPatient(input: { firstName: "A", lastName: "B", dateOfBirth: "1990-01-01", sex: FEMALE, email: "nope" }) { id } }`);
    expect(res.status).toBeLessThan(500);
    expect(['BAD_USER_INPUT', 'GRAPHQL_VALIDATION_FAILED']).toContain(res.errors?.[0]?.extensions?.code);
  });

  it('an unknown id and a malformed id', async () => {
    expectCleanError(await gql(`{ doctor(id: "65d0000000000000000000ff") { id } }`), 'NOT_FOUND');
    expectCleanError(await gql(`query P($id: ObjectID!) { patient(id: $id) { id } }`, { id: 'xyz' }), 'BAD_USER_INPUT');
  });

  it('an oversized page', async () => {
    const res = await gql(`{ patients(first: 101) { edges { node { id } } } }`);
    expectCleanError(res, 'BAD_USER_INPUT');
    expect(res.errors![0].message).toBe('first must be between 1 and 100');
  });

  it('an overlapping schedule', async () => {
    const res = await gql(CREATE_DOCTOR, {
      input: {
        firstName: 'O',
        lastName: 'Verlap',
        specialty: 'Neurology',
        timeZone: 'Europe/Berlin',
        weeklySchedule: [
          { weekday: 'MONDAY', start: '09:00', end: '12:00', slotMinutes: 30 },
          { weekday: 'MONDAY', start: '11:00', end: '13:00', slotMinutes: 30 },
        ],
      },
    });
    expectCleanError(res, 'BAD_USER_INPUT');
    expect(res.errors![0].message).toMatch(/overlap on MONDAY/);
  });

  it('an unknown time zone', async () => {
    expectCleanError(await gql(CREATE_DOCTOR, { input: { firstName: 'T', lastName: 'Z', specialty: 'X', timeZone: 'Mars/Olympus' } }), 'BAD_USER_INPUT');
  });
});

describe('trust boundaries and failures', () => {
  it('a subgraph refuses a call that does not carry the router signature', async () => {
    const res = await postGraphQL(graph.subgraphs.patients!.url, `{ patients { edges { node { id name } } } }`);
    expect(res.status).toBe(401);
    expect(res.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(res.data).toBeUndefined();
  });

  it('answers health and readiness', async () => {
    const ready = await fetch(graph.subgraphs.doctors!.url.replace('/graphql', '/ready'));
    expect(ready.status).toBe(200);
    const health = await fetch(graph.router.url.replace('/graphql', '/health'));
    expect(await health.json()).toEqual({ status: 'ok', service: 'router' });
  });

  it('a subgraph that is down gives a clear error, and the other subgraphs still answer', async () => {
    await graph.subgraphs.doctors!.stop();
    const started = Date.now();
    const res = await gql(`{ patients(first: 1) { edges { node { id } } } doctors(first: 1) { edges { node { id } } } }`);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(res.status).toBe(200);
    expect(res.errors?.[0]).toMatchObject({ extensions: { code: 'SUBGRAPH_UNAVAILABLE', serviceName: 'doctors' } });
    expect(res.errors?.[0].message).toMatch(/doctors service is unavailable/);
    const patientsOnly = await gql<{ patients: { edges: unknown[] } }>(`{ patients(first: 1) { edges { node { id } } } }`);
    expect(patientsOnly.errors).toBeUndefined();
    expect(patientsOnly.data!.patients.edges).toHaveLength(1);
  });
});
