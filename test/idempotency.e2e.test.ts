import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { callSubgraph, silentLog, startTestGraph, type GraphQLResponse, type TestGraph } from './helpers';
import { startRouter, type RunningRouter } from '../router/server';
import type { AppointmentDoc } from '../subgraphs/appointments/model';
import type { DispensationDoc, MedicationDoc, PrescriptionDoc } from '../subgraphs/medications/model';
import { accountsSubgraph } from '../subgraphs/accounts/index';
import { appointmentsSubgraph } from '../subgraphs/appointments/index';
import { doctorsSubgraph } from '../subgraphs/doctors/index';
import { medicationsSubgraph } from '../subgraphs/medications/index';
import { patientsSubgraph } from '../subgraphs/patients/index';

/**
 * Idempotent mutations (README "Idempotent mutations"): through the router, on the real database,
 * with the Idempotency-Key header; and at the source, when the router lost the first answer.
 */
let graph: TestGraph;
let admin: string;
let adminId: string;
const WEEK = ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'];

interface Answer<T> extends GraphQLResponse<T> {
  replayed: boolean;
}

/** POST through a router as the admin, with an Idempotency-Key when given; the answer and whether it was replayed. */
async function send<T = Record<string, unknown>>(query: string, variables: Record<string, unknown>, key?: string, url = graph.router.url): Promise<Answer<T>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}`, ...(key !== undefined ? { 'idempotency-key': key } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as Omit<GraphQLResponse<T>, 'status'>;
  return { status: res.status, ...body, replayed: res.headers.get('idempotent-replayed') === 'true' };
}
const code = (res: GraphQLResponse) => res.errors?.[0]?.extensions?.code;
let keys = 0;
const newKey = () => `test-key-${Date.now()}-${++keys}`;

const appointments = () => graph.subgraphs.appointments!.conn.model<AppointmentDoc>('Appointment');
const dispensations = () => graph.subgraphs.medications!.conn.model<DispensationDoc>('Dispensation');

async function newDoctor(name: string): Promise<string> {
  const res = await send<{ createDoctor: { id: string } }>(`mutation D($i: CreateDoctorInput!) { createDoctor(input: $i) { id } }`, {
    i: { firstName: name, lastName: 'Test', specialty: 'Cardiology', timeZone: 'Europe/Berlin', weeklySchedule: WEEK.map((weekday) => ({ weekday, start: '08:00', end: '18:00', slotMinutes: 30 })) },
  });
  return res.data!.createDoctor.id;
}
async function newPatient(name: string): Promise<string> {
  const res = await send<{ registerPatient: { id: string } }>(`mutation P($i: RegisterPatientInput!) { registerPatient(input: $i) { id } }`, {
    i: { firstName: name, lastName: 'Retry', dateOfBirth: '1980-01-01', sex: 'FEMALE' },
  });
  return res.data!.registerPatient.id;
}
async function freeSlots(doctorId: string): Promise<{ start: string; end: string }[]> {
  const res = await send<{ availableSlots: { start: string; end: string }[] }>(
    `query S($d: ObjectID!, $f: DateTime!, $t: DateTime!) { availableSlots(doctorId: $d, from: $f, to: $t) { start end } }`,
    { d: doctorId, f: new Date(Date.now() + 86_400_000).toISOString(), t: new Date(Date.now() + 4 * 86_400_000).toISOString() },
  );
  return res.data!.availableSlots;
}

const BOOK = `mutation B($i: BookAppointmentInput!) { bookAppointment(input: $i) { id status patient { id } } }`;
type Booked = { bookAppointment: { id: string; status: string } };
const bookingInput = (patientId: string, doctorId: string, slot: { start: string; end: string }, reason = 'Check-up') => ({
  i: { patientId, doctorId, start: slot.start, end: slot.end, reason },
});

beforeAll(async () => {
  graph = await startTestGraph([accountsSubgraph, patientsSubgraph, doctorsSubgraph, appointmentsSubgraph, medicationsSubgraph]);
  const login = await graph.gql<{ login: { accessToken: string; user: { id: string } } }>(
    `mutation L($e: EmailAddress!, $p: String!) { login(email: $e, password: $p) { accessToken user { id } } }`,
    { e: graph.cfg.SUPERADMIN_EMAIL, p: graph.cfg.SUPERADMIN_PASSWORD },
  );
  admin = login.data!.login.accessToken;
  adminId = login.data!.login.user.id;
});
afterAll(() => graph.stop());

describe('Idempotency-Key through the router', () => {
  it('books once for a key sent twice: the retry gets the first answer, replayed', async () => {
    const [doctorId, patientId] = await Promise.all([newDoctor('Once'), newPatient('Once')]);
    const [slot] = await freeSlots(doctorId);
    const key = newKey();
    const first = await send<Booked>(BOOK, bookingInput(patientId, doctorId, slot), key);
    expect(first.errors).toBeUndefined();
    const again = await send<Booked>(BOOK, bookingInput(patientId, doctorId, slot), key);
    expect(again).toMatchObject({ status: 200, replayed: true, data: first.data });
    expect(first.replayed).toBe(false);
    expect(await appointments().countDocuments({ patientId })).toBe(1);
  });

  it('lets concurrent requests with one key book once, and gives all of them that booking', async () => {
    const [doctorId, patientId] = await Promise.all([newDoctor('Race'), newPatient('Race')]);
    const [slot] = await freeSlots(doctorId);
    const key = newKey();
    const answers = await Promise.all(Array.from({ length: 6 }, () => send<Booked>(BOOK, bookingInput(patientId, doctorId, slot), key)));
    for (const a of answers) expect(a.errors).toBeUndefined();
    expect(new Set(answers.map((a) => a.data!.bookAppointment.id)).size).toBe(1);
    expect(answers.filter((a) => !a.replayed)).toHaveLength(1);
    expect(await appointments().countDocuments({ patientId })).toBe(1);
  });

  it('refuses a key reused for a different request with BAD_USER_INPUT (400), and books nothing for it', async () => {
    const [doctorId, patientId] = await Promise.all([newDoctor('Reuse'), newPatient('Reuse')]);
    const [a, b] = await freeSlots(doctorId);
    const key = newKey();
    expect((await send<Booked>(BOOK, bookingInput(patientId, doctorId, a), key)).errors).toBeUndefined();
    const other = await send<Booked>(BOOK, bookingInput(patientId, doctorId, b), key);
    expect(other.status).toBe(400);
    expect(code(other)).toBe('BAD_USER_INPUT');
    expect(other.errors![0].message).toMatch(/Idempotency-Key was already used for a different request/);
    expect(await appointments().countDocuments({ patientId })).toBe(1);
  });

  it('answers a malformed key with BAD_USER_INPUT (400) on a mutation and ignores the header on a query', async () => {
    const [doctorId, patientId] = await Promise.all([newDoctor('Malformed'), newPatient('Malformed')]);
    const [slot] = await freeSlots(doctorId);
    for (const bad of ['x'.repeat(129), 'clé', '']) {
      const res = await send<Booked>(BOOK, bookingInput(patientId, doctorId, slot), bad);
      expect(res.status).toBe(400);
      expect(code(res)).toBe('BAD_USER_INPUT');
    }
    expect(await appointments().countDocuments({ patientId })).toBe(0);
    const query = await send<{ specialties: string[] }>(`{ specialties }`, {}, 'x'.repeat(129));
    expect(query.errors).toBeUndefined();
    expect((await send<Booked>(BOOK, bookingInput(patientId, doctorId, slot), 'k'.repeat(128))).errors).toBeUndefined();
  });

  it('replays a definitive error as the first answer, even after the slot became free', async () => {
    const [doctorId, p1, p2] = await Promise.all([newDoctor('Taken'), newPatient('First'), newPatient('Second')]);
    const [slot] = await freeSlots(doctorId);
    const taken = await send<Booked>(BOOK, bookingInput(p1, doctorId, slot), newKey());
    const key = newKey();
    const refused = await send<Booked>(BOOK, bookingInput(p2, doctorId, slot), key);
    expect(code(refused)).toBe('CONFLICT');
    await send(`mutation C($id: ObjectID!) { cancelAppointment(id: $id, reason: "freed") { id } }`, { id: taken.data!.bookAppointment.id });
    const again = await send<Booked>(BOOK, bookingInput(p2, doctorId, slot), key);
    expect(again).toMatchObject({ replayed: true, errors: refused.errors });
    expect(await appointments().countDocuments({ patientId: p2 })).toBe(0);
  });

  it('keys each aliased mutation of one operation apart at the source', async () => {
    const [doctorId, patientId] = await Promise.all([newDoctor('Alias'), newPatient('Alias')]);
    const [a, b] = await freeSlots(doctorId);
    const TWO = `mutation Two($a: BookAppointmentInput!, $b: BookAppointmentInput!) { a: bookAppointment(input: $a) { id } b: bookAppointment(input: $b) { id } }`;
    const vars = { a: bookingInput(patientId, doctorId, a).i, b: bookingInput(patientId, doctorId, b).i };
    const key = newKey();
    const res = await send<{ a: { id: string }; b: { id: string } }>(TWO, vars, key);
    expect(res.errors).toBeUndefined();
    expect(res.data!.a.id).not.toBe(res.data!.b.id);
    expect(await appointments().countDocuments({ patientId })).toBe(2);
  });
});

/**
 * A stand-in for a network that loses the appointments service's answer: it forwards each call,
 * waits for the whole answer (the work is done) and, while `drop` is set, cuts the connection
 * instead of answering. Counts the mutations it forwards.
 */
async function lossyProxy(target: string): Promise<{ url: string; drop: boolean; mutations: number; close(): Promise<void> }> {
  const state = { drop: false, mutations: 0 };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (/^\s*mutation/.test((JSON.parse(body) as { query: string }).query)) state.mutations++;
      const headers = Object.fromEntries(Object.entries(req.headers).filter((e): e is [string, string] => typeof e[1] === 'string' && e[0] !== 'content-length' && e[0] !== 'host'));
      void fetch(target, { method: 'POST', headers, body }).then(async (answer) => {
        const text = await answer.text();
        if (state.drop) return req.socket.destroy();
        res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
        res.end(text);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  return Object.assign(state, {
    url,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

describe('a retry after the router lost the first answer', () => {
  let proxy: Awaited<ReturnType<typeof lossyProxy>>;
  let router: RunningRouter;
  beforeAll(async () => {
    proxy = await lossyProxy(graph.subgraphs.appointments!.url);
    const urls = Object.fromEntries(Object.values(graph.subgraphs).map((s) => [s.name, s.url]));
    router = await startRouter({ port: 0, config: graph.cfg, logger: silentLog, subgraphUrls: { ...urls, appointments: proxy.url } });
  });
  afterAll(async () => {
    await router.stop();
    await proxy.close();
  });

  it('gets the booking the service made back, not CONFLICT, and the router never retried on its own', async () => {
    const [doctorId, patientId] = await Promise.all([newDoctor('Lost'), newPatient('Lost')]);
    const [slot] = await freeSlots(doctorId);
    const key = newKey();
    proxy.drop = true;
    const lost = await send<Booked>(BOOK, bookingInput(patientId, doctorId, slot), key, router.url);
    expect(code(lost)).toBe('SUBGRAPH_UNAVAILABLE');
    expect(proxy.mutations).toBe(1); // one attempt: the router did not retry the mutation
    const stored = await appointments().find({ patientId }).lean();
    expect(stored).toHaveLength(1); // the service did book

    proxy.drop = false;
    const retry = await send<Booked>(BOOK, bookingInput(patientId, doctorId, slot), key, router.url);
    expect(retry.errors).toBeUndefined();
    expect(retry).toMatchObject({ replayed: false, data: { bookAppointment: { id: String(stored[0]._id), status: 'SCHEDULED' } } });
    expect(await appointments().countDocuments({ patientId })).toBe(1);

    // Without a key the same retry is a new booking of a taken slot.
    const [other] = await freeSlots(doctorId);
    proxy.drop = true;
    await send<Booked>(BOOK, bookingInput(patientId, doctorId, other), undefined, router.url);
    proxy.drop = false;
    expect(code(await send<Booked>(BOOK, bookingInput(patientId, doctorId, other), undefined, router.url))).toBe('CONFLICT');
  });

  it('gets the moved and then the cancelled appointment back when those answers were lost, not CONFLICT', async () => {
    const [doctorId, patientId] = await Promise.all([newDoctor('Moved'), newPatient('Moved')]);
    const [slot, later] = await freeSlots(doctorId);
    const booked = await send<Booked>(BOOK, bookingInput(patientId, doctorId, slot), newKey(), router.url);
    const id = booked.data!.bookAppointment.id;
    const MOVE = `mutation M($id: ObjectID!, $s: DateTime!, $e: DateTime!) { rescheduleAppointment(id: $id, start: $s, end: $e) { id start status } }`;
    const CANCEL = `mutation C($id: ObjectID!) { cancelAppointment(id: $id, reason: "No longer needed") { id status } }`;
    const moveKey = newKey();
    const cancelKey = newKey();

    proxy.drop = true;
    expect(code(await send(MOVE, { id, s: later.start, e: later.end }, moveKey, router.url))).toBe('SUBGRAPH_UNAVAILABLE');
    proxy.drop = false;
    const moved = await send<{ rescheduleAppointment: { start: string } }>(MOVE, { id, s: later.start, e: later.end }, moveKey, router.url);
    expect(moved.errors).toBeUndefined();
    expect(new Date(moved.data!.rescheduleAppointment.start).getTime()).toBe(new Date(later.start).getTime());

    proxy.drop = true;
    expect(code(await send(CANCEL, { id }, cancelKey, router.url))).toBe('SUBGRAPH_UNAVAILABLE');
    proxy.drop = false;
    const cancelled = await send(CANCEL, { id }, cancelKey, router.url);
    expect(cancelled).toMatchObject({ data: { cancelAppointment: { id, status: 'CANCELLED' } } });
    expect(cancelled.errors).toBeUndefined();
    // Another cancel (a new key) is refused as before.
    expect(code(await send(CANCEL, { id }, newKey(), router.url))).toBe('CONFLICT');
    const saved = await appointments().findById(id).lean();
    expect(saved!.outbox.filter((e) => e.type === 'APPOINTMENT_CANCELLED')).toHaveLength(1);
    expect(saved!.outbox.filter((e) => e.type === 'APPOINTMENT_RESCHEDULED')).toHaveLength(1);
  });
});

describe('dispensing with an Idempotency-Key', () => {
  const DISPENSE = `mutation X($p: ObjectID!, $q: PositiveInt!) { dispense(prescriptionId: $p, quantity: $q) { id quantity prescription { fillsDispensed } medication { stockOnHand } } }`;
  type Dispensed = { dispense: { id: string; quantity: number; prescription: { fillsDispensed: number }; medication: { stockOnHand: number } } };
  let medicationId: string;
  let codes = 0;

  async function prescription(refillsAllowed: number): Promise<string> {
    const [patientId, doctorId] = await Promise.all([newPatient(`Rx${++codes}`), newDoctor(`Rx${codes}`)]);
    const med = await send<{ addMedication: { id: string } }>(`mutation M($i: AddMedicationInput!) { addMedication(input: $i) { id } }`, {
      i: { name: 'Amoxicillin', form: 'CAPSULE', strength: '500 mg', code: `IDEM-${codes}`, unit: 'capsule', stockOnHand: 100, reorderLevel: 5 },
    });
    medicationId = med.data!.addMedication.id;
    const rx = await send<{ prescribe: { id: string } }>(`mutation P($i: PrescribeInput!) { prescribe(input: $i) { id } }`, {
      i: { patientId, doctorId, medicationId, dosage: '1 capsule', frequency: 'daily', startDate: '2026-03-01', refillsAllowed },
    });
    expect(rx.errors).toBeUndefined();
    return rx.data!.prescribe.id;
  }
  const stock = async () => (await graph.subgraphs.medications!.conn.model<MedicationDoc>('Medication').findById(medicationId).lean())!.stockOnHand;
  const fills = async (id: string) => (await graph.subgraphs.medications!.conn.model<PrescriptionDoc>('Prescription').findById(id).lean())!.fillsDispensed;

  it('dispenses once for a key sent twice, and once for concurrent requests with one key', async () => {
    const rx = await prescription(5);
    const key = newKey();
    const first = await send<Dispensed>(DISPENSE, { p: rx, q: 10 }, key);
    expect(first.errors).toBeUndefined();
    expect(await send<Dispensed>(DISPENSE, { p: rx, q: 10 }, key)).toMatchObject({ replayed: true, data: first.data });

    const other = newKey();
    const answers = await Promise.all(Array.from({ length: 4 }, () => send<Dispensed>(DISPENSE, { p: rx, q: 5 }, other)));
    for (const a of answers) expect(a.errors).toBeUndefined();
    expect(new Set(answers.map((a) => a.data!.dispense.id)).size).toBe(1);
    expect(await stock()).toBe(85);
    expect(await fills(rx)).toBe(2);
    expect(await dispensations().countDocuments({ prescriptionId: rx, status: 'COMPLETED' })).toBe(2);
  });

  it('gives the dispensation back at the source when the router holds no answer for the key', async () => {
    const rx = await prescription(5);
    const key = newKey();
    // Straight to the service, the way the router forwards a keyed mutation: as if the router
    // had lost the first answer (and with it its own record), twice.
    const direct = async () => {
      const { data, errors } = await callSubgraph<{ dispense: { id: string } }>(
        graph.subgraphs.medications!,
        graph.cfg,
        `mutation { dispense(prescriptionId: "${rx}", quantity: 3) { id } }`,
        {},
        { userId: adminId, role: 'SUPER_ADMIN' },
        { idempotencyKey: key },
      );
      return { data, errors };
    };
    const a = await direct();
    const b = await direct();
    expect(a.errors).toBeUndefined();
    expect(b).toEqual(a);
    // And a retry through the router with the same key gets that dispensation too.
    const viaRouter = await send<{ dispense: { id: string } }>(`mutation { dispense(prescriptionId: "${rx}", quantity: 3) { id } }`, {}, key);
    expect(viaRouter.data).toEqual(a.data);
    expect(await stock()).toBe(97);
    expect(await fills(rx)).toBe(1);
  });

  it('replays a refusal as the first answer and takes nothing', async () => {
    const rx = await prescription(0);
    const key = newKey();
    const tooMuch = await send<Dispensed>(DISPENSE, { p: rx, q: 1000 }, key);
    expect(code(tooMuch)).toBe('CONFLICT');
    expect(await send<Dispensed>(DISPENSE, { p: rx, q: 1000 }, key)).toMatchObject({ replayed: true, errors: tooMuch.errors });
    expect(await dispensations().countDocuments({ prescriptionId: rx })).toBe(0);
    expect(await stock()).toBe(100);
  });
});
