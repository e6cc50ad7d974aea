import type { Config } from '../platform/config';
import { IDENTITY_HEADER, REQUEST_ID_HEADER, SIGNATURE_HEADER, signIdentity, signingKey, type Identity } from '../platform/identity';
import { ServiceClient } from '../platform/serviceClient';
import { subgraphUrlEnv } from '../platform/services';
import { startRouter, type RunningRouter } from '../router/server';
import { accountsSubgraph } from '../subgraphs/accounts/index';
import { doctorsSubgraph } from '../subgraphs/doctors/index';
import { patientsSubgraph } from '../subgraphs/patients/index';
import { recordingProxy, type Recorded } from './recordingProxy';
import { callSubgraph, postBody, postGraphQL, silentLog, startTestGraph, type GraphQLResponse, type TestGraph } from './helpers';

/**
 * The router → subgraph signature (platform/identity.ts) against replays: a header pair captured
 * on the wire between the real router and a real subgraph (a recording proxy in front of the
 * subgraph) is good for that very call only: not with another body, not at another subgraph, not
 * once it is 10 s old or when it claims a time ahead of the subgraph's clock.
 */
/** The two signature headers (and the request id) of a recorded call, as an attacker would copy them. */
function stolen(call: Recorded): Record<string, string> {
  return {
    [IDENTITY_HEADER]: call.headers[IDENTITY_HEADER],
    [SIGNATURE_HEADER]: call.headers[SIGNATURE_HEADER],
    [REQUEST_ID_HEADER]: call.headers[REQUEST_ID_HEADER],
  };
}

/** Refused at the door: 401 UNAUTHENTICATED, nothing run, no stack trace; the reason is named. */
function expectRefused(res: GraphQLResponse, reason: RegExp): void {
  expect(res.status).toBe(401);
  expect(res.data).toBeUndefined();
  expect(res.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  expect(res.errors?.[0]?.message).toMatch(reason);
  expect(JSON.stringify(res.errors)).not.toMatch(/stacktrace|    at |node_modules/);
}

let graph: TestGraph;
let superToken: string;
let patientToken: string;
let ids: { own: string; foreign: string; superAdmin: string; patientUser: string };
let proxy: Awaited<ReturnType<typeof recordingProxy>>;
let router: RunningRouter;

const HISTORY = `query H($id: ObjectID!) { patient(id: $id) { id name medicalHistory { condition } } }`;
const ALL_PATIENTS = JSON.stringify({ query: `{ patients(first: 100) { edges { node { id name medicalHistory { condition } labResults { test } } } } }`, variables: {} });
const entitiesOfUser = (id: string) =>
  JSON.stringify({ query: `query($r: [_Any!]!) { _entities(representations: $r) { ... on User { id email role } } }`, variables: { r: [{ __typename: 'User', id }] } });

beforeAll(async () => {
  graph = await startTestGraph([accountsSubgraph, patientsSubgraph, doctorsSubgraph]);
  const login = await graph.gql<{ login: { accessToken: string; user: { id: string } } }>(
    `mutation { login(email: "${graph.cfg.SUPERADMIN_EMAIL}", password: "${graph.cfg.SUPERADMIN_PASSWORD}") { accessToken user { id } } }`,
  );
  superToken = login.data!.login.accessToken;
  const register = async (firstName: string) => {
    const res = await graph.as<{ registerPatient: { id: string } }>(superToken, `mutation R($i: RegisterPatientInput!) { registerPatient(input: $i) { id } }`, {
      i: { firstName, lastName: 'Replay', dateOfBirth: '1980-05-05', sex: 'UNKNOWN' },
    });
    return res.data!.registerPatient.id;
  };
  const [own, foreign] = [await register('Own'), await register('Foreign')];
  const created = await graph.as<{ createUser: { id: string } }>(superToken, `mutation C($i: CreateUserInput!) { createUser(input: $i) { id } }`, {
    i: { email: 'replay.patient@mail.example', password: 'replay-patient-password', role: 'PATIENT', patientId: own },
  });
  ids = { own, foreign, superAdmin: login.data!.login.user.id, patientUser: created.data!.createUser.id };
  patientToken = await graph.login('replay.patient@mail.example', 'replay-patient-password');

  // A second router whose calls to patients pass the recording proxy.
  proxy = await recordingProxy(graph.subgraphs.patients!.url);
  const urls = Object.fromEntries(Object.values(graph.subgraphs).map((s) => [s.name, s.url]));
  router = await startRouter({ port: 0, config: graph.cfg, logger: silentLog, subgraphUrls: { ...urls, patients: proxy.url } });
});
afterAll(async () => {
  await router?.stop();
  await proxy?.close();
  await graph?.stop();
});

/** One real call through the recording router; returns what went over the wire to patients. */
async function capture(token: string, patientId: string): Promise<Recorded> {
  const before = proxy.calls.length;
  const res = await postGraphQL<{ patient: { id: string } }>(router.url, HISTORY, { id: patientId }, { authorization: `Bearer ${token}` });
  expect(res.errors).toBeUndefined();
  expect(res.data!.patient.id).toBe(patientId);
  expect(proxy.calls).toHaveLength(before + 1);
  const call = proxy.calls[before];
  expect(call.headers[IDENTITY_HEADER]).toBeTruthy();
  expect(call.headers[SIGNATURE_HEADER]).toBeTruthy();
  return call;
}

describe('a captured router → subgraph signature', () => {
  it('is accepted for the very call it was made for, replayed unchanged within its 10 s', async () => {
    const call = await capture(superToken, ids.own);
    const replay = await postBody<{ patient: { id: string } }>(graph.subgraphs.patients!.url, call.body, stolen(call));
    expect(replay.status).toBe(200);
    expect(replay.errors).toBeUndefined();
    expect(replay.data!.patient.id).toBe(ids.own);
  });

  it('is refused with any other body at the same subgraph', async () => {
    const call = await capture(superToken, ids.own);
    const patients = graph.subgraphs.patients!.url;
    // Every patient's history and labs.
    expectRefused(await postBody(patients, ALL_PATIENTS, stolen(call)), /invalid router signature/);
    // The same operation for another record, and the very body with one byte more.
    expectRefused(await postBody(patients, call.body.replace(ids.own, ids.foreign), stolen(call)), /invalid router signature/);
    expectRefused(await postBody(patients, `${call.body} `, stolen(call)), /invalid router signature/);
    // The schema, and a GET that carries its query in the URL instead of a body.
    expectRefused(await postBody(patients, JSON.stringify({ query: '{ _service { sdl } }' }), stolen(call)), /invalid router signature/);
    const get = await fetch(`${patients}?query=${encodeURIComponent('{ _service { sdl } }')}`, { headers: { ...stolen(call), 'apollo-require-preflight': 'true' } });
    expect(get.status).toBe(401);
  });

  it('is refused at any other subgraph, with the same body or another', async () => {
    const call = await capture(superToken, ids.own);
    for (const sub of [graph.subgraphs.doctors!, graph.subgraphs.accounts!]) {
      expectRefused(await postBody(sub.url, call.body, stolen(call)), /signed for another service/);
      expectRefused(await postBody(sub.url, JSON.stringify({ query: '{ _service { sdl } }' }), stolen(call)), /invalid router signature/);
    }
    expectRefused(await postBody(graph.subgraphs.accounts!.url, entitiesOfUser(ids.superAdmin), stolen(call)), /invalid router signature/);
  });

  describe('made the way the router makes it, with the real secret', () => {
    const identity: Identity = { userId: 'someone', role: 'SUPER_ADMIN' };
    const signedAt = (now: number, body: string) => signIdentity(identity, signingKey(graph.cfg.INTERNAL_SECRET), body, { audience: 'patients', requestId: 'replay', now });

    it('is accepted now (the control)', async () => {
      const body = JSON.stringify({ query: HISTORY, variables: { id: ids.own } });
      const res = await postBody<{ patient: { id: string } }>(graph.subgraphs.patients!.url, body, signedAt(Date.now(), body));
      expect(res.errors).toBeUndefined();
      expect(res.data!.patient.id).toBe(ids.own);
    });

    it('is refused once 10 s have passed', async () => {
      const body = JSON.stringify({ query: HISTORY, variables: { id: ids.own } });
      expectRefused(await postBody(graph.subgraphs.patients!.url, body, signedAt(Date.now() - 11_000, body)), /expired router signature/);
    });

    it('is refused when it claims a time ahead of the subgraph clock beyond 1 s', async () => {
      const body = JSON.stringify({ query: HISTORY, variables: { id: ids.own } });
      for (const ahead of [5_000, 59_000]) {
        expectRefused(await postBody(graph.subgraphs.patients!.url, body, signedAt(Date.now() + ahead, body)), /from the future/);
      }
    });
  });
});

describe('service-to-service calls', () => {
  it('are signed for their target and their body, and a captured one is refused elsewhere', async () => {
    const accountsProxy = await recordingProxy(graph.subgraphs.accounts!.url);
    try {
      const cfg = { ...graph.cfg, [subgraphUrlEnv('accounts')]: accountsProxy.url } as Config;
      const client = new ServiceClient(cfg, 'notifications');
      const data = await client.query<{ users: { edges: { node: { id: string } }[] } }>('accounts', `query($r: Role) { users(role: $r, first: 10) { edges { node { id } } } }`, { r: 'PATIENT' }, 'svc-test');
      expect(data.users.edges.map((e) => e.node.id)).toContain(ids.patientUser);
      const [call] = accountsProxy.calls;
      expectRefused(await postBody(graph.subgraphs.accounts!.url, entitiesOfUser(ids.superAdmin), stolen(call)), /invalid router signature/);
      expectRefused(await postBody(graph.subgraphs.patients!.url, call.body, stolen(call)), /signed for another service/);
      const again = await postBody<{ users: { edges: unknown[] } }>(graph.subgraphs.accounts!.url, call.body, stolen(call));
      expect(again.errors).toBeUndefined();
    } finally {
      await accountsProxy.close();
    }
  });
});

describe('User entities follow the accounts policy', () => {
  const asPatient = (): Identity => ({ userId: ids.patientUser, role: 'PATIENT', patientId: ids.own });

  it("a patient's identity does not get another user's email or role through _entities", async () => {
    const res = await callSubgraph<{ _entities: ({ email: string; role: string } | null)[] }>(
      graph.subgraphs.accounts!,
      graph.cfg,
      `query($r: [_Any!]!) { _entities(representations: $r) { ... on User { id email role } } }`,
      { r: [{ __typename: 'User', id: ids.superAdmin }] },
      asPatient(),
    );
    expect(res.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(res.data?._entities ?? [null]).toEqual([null]);
    expect(JSON.stringify(res)).not.toMatch(new RegExp(`${graph.cfg.SUPERADMIN_EMAIL}|SUPER_ADMIN`, 'i'));
  });

  it('the user themselves, the super admin and services still read a user', async () => {
    const query = `query($r: [_Any!]!) { _entities(representations: $r) { ... on User { id email role } } }`;
    const own = await callSubgraph<{ _entities: { email: string }[] }>(graph.subgraphs.accounts!, graph.cfg, query, { r: [{ __typename: 'User', id: ids.patientUser }] }, asPatient());
    expect(own.errors).toBeUndefined();
    expect(own.data!._entities[0].email).toBe('replay.patient@mail.example');
    const admin = await callSubgraph<{ _entities: { role: string }[] }>(graph.subgraphs.accounts!, graph.cfg, query, { r: [{ __typename: 'User', id: ids.patientUser }] }, { userId: ids.superAdmin, role: 'SUPER_ADMIN' });
    expect(admin.data!._entities[0].role).toBe('PATIENT');
    const service = await callSubgraph<{ _entities: { role: string }[] }>(graph.subgraphs.accounts!, graph.cfg, query, { r: [{ __typename: 'User', id: ids.superAdmin }] }, { service: 'notifications' });
    expect(service.data!._entities[0].role).toBe('SUPER_ADMIN');
    // Through the router: me, and the user of the session login hands out (before signing in).
    const me = await graph.as<{ me: { email: string; role: string } }>(patientToken, '{ me { email role } }');
    expect(me.data!.me).toEqual({ email: 'replay.patient@mail.example', role: 'PATIENT' });
    const login = await graph.gql<{ login: { user: { email: string; role: string } } }>(
      `mutation { login(email: "replay.patient@mail.example", password: "replay-patient-password") { user { email role } } }`,
    );
    expect(login.errors).toBeUndefined();
    expect(login.data!.login.user).toEqual({ email: 'replay.patient@mail.example', role: 'PATIENT' });
  });
});
