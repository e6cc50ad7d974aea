import { EVENTS_DB } from '../platform/pubsub';
import { signAccessToken } from '../platform/jwt';
import { startRouter, type RunningRouter } from '../router/server';
import { accountsSubgraph } from '../subgraphs/accounts/index';
import { doctorsSubgraph } from '../subgraphs/doctors/index';
import { dropTestDatabases, postGraphQL, silentLog, startTestGraph, type TestGraph } from './helpers';
import { recordingProxy, type RecordingProxy } from './recordingProxy';

/**
 * The router keeps doctors' answers (the same for every signed-in caller) until a doctor changes
 * (router/publicAnswers.ts): through a real router whose calls to doctors pass a recording proxy,
 * with the changes made through another router.
 */
let graph: TestGraph;
let proxy: RecordingProxy;
let router: RunningRouter;
let admin: string;

beforeAll(async () => {
  graph = await startTestGraph([accountsSubgraph, doctorsSubgraph]);
  proxy = await recordingProxy(graph.subgraphs.doctors!.url);
  const urls = Object.fromEntries(Object.values(graph.subgraphs).map((s) => [s.name, s.url]));
  router = await startRouter({ port: 0, config: graph.cfg, logger: silentLog, subgraphUrls: { ...urls, doctors: proxy.url } });
  admin = await graph.login(graph.cfg.SUPERADMIN_EMAIL, graph.cfg.SUPERADMIN_PASSWORD);
});
afterAll(async () => {
  await router.stop();
  await proxy.close();
  await graph.stop();
  await dropTestDatabases(graph.cfg, [EVENTS_DB]);
});

const bearer = async (userId: string, role: 'NURSE' | 'PATIENT' | 'DOCTOR') => ({ authorization: `Bearer ${(await signAccessToken({ userId, role }, graph.cfg.JWT_SECRET, 900)).token}` });
const ask = async <T>(query: string, headers: Record<string, string>, variables: Record<string, unknown> = {}) => postGraphQL<T>(router.url, query, variables, headers);
const WEEK = ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'];
const calls = (text: string) => proxy.calls.filter((c) => c.body.includes(text)).length;

describe("doctors' answers kept by the router", () => {
  it('answers signed-in users from one call until a doctor is created or changed through any router, and never anonymous callers', async () => {
    const [nurse, patient] = [await bearer('0000000000000000000000b1', 'NURSE'), await bearer('0000000000000000000000b2', 'PATIENT')];
    type Specialties = { specialties: string[] };
    const first = await ask<Specialties>('{ specialties }', nurse);
    expect(first.errors).toBeUndefined();
    expect((await ask<Specialties>('{ specialties }', patient)).data).toEqual(first.data);
    expect((await ask<Specialties>('{ specialties }', nurse)).data).toEqual(first.data);
    expect(calls('specialties')).toBe(1);

    // Anonymous: asked of the subgraph, which refuses it; never served from what signed-in users got.
    const anonymous = await ask<Specialties>('{ specialties }', {});
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(calls('specialties')).toBe(2);

    // A new doctor (through the other router): the next answer has its specialty.
    const created = await graph.as<{ createDoctor: { id: string } }>(admin, `mutation D($i: CreateDoctorInput!) { createDoctor(input: $i) { id } }`, {
      i: { firstName: 'Cache', lastName: 'Probe', specialty: 'Cachology', timeZone: 'UTC', weeklySchedule: WEEK.map((weekday) => ({ weekday, start: '08:00', end: '12:00', slotMinutes: 30 })) },
    });
    const id = created.data!.createDoctor.id;
    expect((await ask<Specialties>('{ specialties }', patient)).data!.specialties).toContain('Cachology');
    expect(calls('specialties')).toBe(3);

    type Named = { doctor: { name: string; specialty: string } };
    const DOCTOR = 'query N($id: ObjectID!) { doctor(id: $id) { name specialty } }';
    expect((await ask<Named>(DOCTOR, nurse, { id })).data).toEqual({ doctor: { name: 'Dr. Cache Probe', specialty: 'Cachology' } });
    expect((await ask<Named>(DOCTOR, patient, { id })).data).toEqual({ doctor: { name: 'Dr. Cache Probe', specialty: 'Cachology' } });
    expect(calls('doctor(id:')).toBe(1);

    // Changed through the other router: the very next answer here is the new one.
    await graph.as(admin, `mutation U($id: ObjectID!) { updateDoctor(id: $id, input: { lastName: "Renamed" }) { id } }`, { id });
    expect((await ask<Named>(DOCTOR, nurse, { id })).data).toEqual({ doctor: { name: 'Dr. Cache Renamed', specialty: 'Cachology' } });
    await graph.as(admin, `mutation A($id: ObjectID!) { deactivateDoctor(id: $id) { id } }`, { id });
    expect((await ask<Specialties>('{ specialties }', nurse)).data!.specialties).not.toContain('Cachology');
  });
});
