import { SignJWT } from 'jose';
import { signAccessToken } from '../platform/jwt';
import { randomSecret } from '../scripts/secrets';
import { accountsSubgraph } from '../subgraphs/accounts/index';
import { appointmentsSubgraph } from '../subgraphs/appointments/index';
import { patientsSubgraph } from '../subgraphs/patients/index';
import { LOGIN, postGraphQL, startTestGraph, type TestGraph } from './helpers';

/** Sign-in, sessions, user management and the router's defences, through real HTTP. */
let graph: TestGraph;
let superToken: string;
const PASSWORD = 'a-long-enough-password';

beforeAll(async () => {
  graph = await startTestGraph([accountsSubgraph, patientsSubgraph, appointmentsSubgraph], { LOGIN_MAX_FAILURES: '3' });
  superToken = await graph.login(graph.cfg.SUPERADMIN_EMAIL, graph.cfg.SUPERADMIN_PASSWORD);
});
afterAll(() => graph.stop());

const CREATE_USER = `mutation C($input: CreateUserInput!) { createUser(input: $input) { id email role active } }`;
async function createUser(email: string, role: string, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await graph.as<{ createUser: { id: string } }>(superToken, CREATE_USER, { input: { email, password: PASSWORD, role, ...extra } });
  if (!res.data) throw new Error(JSON.stringify(res.errors));
  return res.data.createUser.id;
}

describe('sign-in', () => {
  it('gives a wrong password and an unknown email the very same answer', async () => {
    await createUser('nurse.one@clinic.example', 'NURSE');
    const wrong = await graph.gql(LOGIN, { email: 'nurse.one@clinic.example', password: 'not-the-password' });
    const unknown = await graph.gql(LOGIN, { email: 'nobody@clinic.example', password: 'not-the-password' });
    expect(wrong.errors?.[0]).toEqual(unknown.errors?.[0]);
    expect(wrong.errors?.[0]).toMatchObject({ message: 'Invalid email or password', extensions: { code: 'UNAUTHENTICATED' } });
  });

  it('makes a client that failed repeatedly wait, whether or not the email exists, even for the right password (429 + Retry-After)', async () => {
    await createUser('nurse.two@clinic.example', 'NURSE');
    for (const email of ['nurse.two@clinic.example', 'ghost@clinic.example']) {
      for (let i = 0; i < 3; i++) await graph.gql(LOGIN, { email, password: 'wrong-password-here' });
      const waiting = await graph.gql(LOGIN, { email, password: PASSWORD });
      expect(waiting.status).toBe(429);
      expect(waiting.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED' });
      expect(waiting.errors?.[0]?.extensions?.retryAfterSeconds).toBeGreaterThan(0);
    }
  });

  it('returns a working session; me answers who is signed in', async () => {
    const id = await createUser('Doc.Who@Clinic.Example', 'DOCTOR', { doctorId: '65d000000000000000000001' });
    const token = await graph.login('doc.who@clinic.example', PASSWORD);
    const me = await graph.as<{ me: { id: string; email: string; role: string } }>(token, '{ me { id email role } }');
    expect(me.data?.me).toEqual({ id, email: 'doc.who@clinic.example', role: 'DOCTOR' });
  });
});

describe('clinic settings', () => {
  it("tells anyone, signed in or not, the clinic's time zone (CLINIC_TIME_ZONE), and nothing else", async () => {
    const anonymous = await graph.gql<{ clinic: { timeZone: string } }>('{ clinic { timeZone } }');
    expect(anonymous).toEqual({ status: 200, data: { clinic: { timeZone: graph.cfg.CLINIC_TIME_ZONE } } });
    expect(graph.cfg.CLINIC_TIME_ZONE).toMatch(/^[A-Z][a-z]+\/[A-Za-z_]+$/);
  });
});

describe('tokens', () => {
  const identity = { userId: '65f0000000000000000000aa', role: 'SUPER_ADMIN' as const };
  const me = '{ me { id } }';

  it('refuses an expired token', async () => {
    const { token } = await signAccessToken(identity, graph.cfg.JWT_SECRET, 60, Date.now() - 3_600_000);
    const res = await graph.as(token, me);
    expect(res.status).toBe(401);
    expect(res.errors?.[0]).toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
    expect(res.errors?.[0].message).toMatch(/expired/);
  });

  it('refuses a token without an expiry (exp), even signed with the right key', async () => {
    const now = Math.floor(Date.now() / 1000);
    const forever = await new SignJWT({ role: 'SUPER_ADMIN' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(identity.userId)
      .setIssuer('healthsync')
      .setAudience('healthsync-graph')
      .setIssuedAt(now)
      .sign(new TextEncoder().encode(graph.cfg.JWT_SECRET));
    const res = await graph.as(forever, me);
    expect(res.status).toBe(401);
    expect(res.errors?.[0]).toMatchObject({ message: 'The access token is not valid', extensions: { code: 'UNAUTHENTICATED' } });
    // The same token with an expiry passes: only the missing exp made the difference.
    const withExp = await new SignJWT({ role: 'SUPER_ADMIN' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(identity.userId)
      .setIssuer('healthsync')
      .setAudience('healthsync-graph')
      .setIssuedAt(now)
      .setExpirationTime(now + 60)
      .sign(new TextEncoder().encode(graph.cfg.JWT_SECRET));
    expect((await graph.as(withExp, '{ __typename }')).status).toBe(200);
  });

  it('refuses a token signed with another key', async () => {
    const { token } = await signAccessToken(identity, randomSecret('JWT_SECRET'), 900);
    const res = await graph.as(token, me);
    expect(res.status).toBe(401);
    expect(res.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('refuses an unsigned alg:none token and garbage', async () => {
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const none = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: identity.userId, role: 'SUPER_ADMIN', iss: 'healthsync', aud: 'healthsync-graph', iat: now, exp: now + 600 })}.`;
    for (const token of [none, 'garbage', '']) {
      const res = await graph.gql(me, {}, { authorization: `Bearer ${token}` });
      expect(res.status).toBe(401);
      expect(res.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    }
  });

  it('rotates refresh tokens: each works once, and a reused one ends every session of the user', async () => {
    await createUser('rotating@clinic.example', 'NURSE');
    const first = await graph.gql<{ login: { refreshToken: string } }>(LOGIN, { email: 'rotating@clinic.example', password: PASSWORD });
    const REFRESH = `mutation R($t: String!) { refreshSession(refreshToken: $t) { accessToken refreshToken user { email } } }`;
    const second = await graph.gql<{ refreshSession: { accessToken: string; refreshToken: string; user: { email: string } } }>(REFRESH, { t: first.data!.login.refreshToken });
    expect(second.data?.refreshSession.user.email).toBe('rotating@clinic.example');
    const reuse = await graph.gql(REFRESH, { t: first.data!.login.refreshToken });
    expect(reuse.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const afterTheft = await graph.gql(REFRESH, { t: second.data!.refreshSession.refreshToken });
    expect(afterTheft.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});

describe('super admin workflow', () => {
  it('creates staff, changes a role, deactivates and reactivates, resets a password, links a patient', async () => {
    const id = await createUser('staff@clinic.example', 'NURSE');
    const dup = await graph.as(superToken, CREATE_USER, { input: { email: 'STAFF@clinic.example', password: PASSWORD, role: 'ADMIN' } });
    expect(dup.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    const weak = await graph.as(superToken, CREATE_USER, { input: { email: 'weak@clinic.example', password: 'short', role: 'ADMIN' } });
    expect(weak.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'password' });

    const role = await graph.as<{ setUserRole: { role: string } }>(superToken, `mutation { setUserRole(id: "${id}", role: PHARMACIST) { role } }`);
    expect(role.data?.setUserRole.role).toBe('PHARMACIST');

    const refresh = (await graph.gql<{ login: { refreshToken: string } }>(LOGIN, { email: 'staff@clinic.example', password: PASSWORD })).data!.login.refreshToken;
    await graph.as(superToken, `mutation { deactivateUser(id: "${id}") { active } }`);
    const blocked = await graph.gql(LOGIN, { email: 'staff@clinic.example', password: PASSWORD });
    expect(blocked.errors?.[0]?.message).toBe('Invalid email or password');
    const renew = await graph.gql(`mutation R($t: String!) { refreshSession(refreshToken: $t) { accessToken } }`, { t: refresh });
    expect(renew.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');

    await graph.as(superToken, `mutation { reactivateUser(id: "${id}") { active } }`);
    await graph.as(superToken, `mutation { resetPassword(id: "${id}", newPassword: "a-brand-new-password") }`);
    await expect(graph.login('staff@clinic.example', PASSWORD)).rejects.toThrow();
    await expect(graph.login('staff@clinic.example', 'a-brand-new-password')).resolves.toEqual(expect.any(String));

    const patientUser = await createUser('patient.user@mail.example', 'PATIENT');
    const linked = await graph.as<{ linkUserToPatient: { patient: { id: string } } }>(
      superToken,
      `mutation { linkUserToPatient(userId: "${patientUser}", patientId: "65e000000000000000000001") { patient { id } } }`,
    );
    expect(linked.data?.linkUserToPatient.patient.id).toBe('65e000000000000000000001');
    const wrongLink = await graph.as(superToken, `mutation { linkUserToDoctor(userId: "${patientUser}", doctorId: "65d000000000000000000001") { id } }`);
    expect(wrongLink.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('keeps at least one active super admin', async () => {
    const me = await graph.as<{ me: { id: string } }>(superToken, '{ me { id } }');
    const res = await graph.as(superToken, `mutation { deactivateUser(id: "${me.data!.me.id}") { active } }`);
    expect(res.errors?.[0]?.extensions?.code).toBe('CONFLICT');
  });

  it('is the only one who manages users', async () => {
    await createUser('admin.only@clinic.example', 'ADMIN');
    const admin = await graph.login('admin.only@clinic.example', PASSWORD);
    const res = await graph.as(admin, CREATE_USER, { input: { email: 'x@clinic.example', password: PASSWORD, role: 'SUPER_ADMIN' } });
    expect(res.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const anon = await graph.gql('{ users { edges { node { id } } } }');
    expect(anon.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});

describe('router defences', () => {
  it('refuses a valid query 50 levels deep (patient → appointments → patient → …) before running it', async () => {
    const cycle = (n: number): string => (n <= 0 ? '{ id }' : `{ id appointments { edges { node { patient ${cycle(n - 1)} } } } }`);
    const deep = `{ patient(id: "65e000000000000000000001") ${cycle(12)} }`;
    expect(deep.split('{').length - 1).toBeGreaterThanOrEqual(50);
    const res = await graph.as(superToken, deep);
    expect(res.status).toBe(400);
    // The depth limit catches it during validation; the schema itself accepts the query.
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(res.errors?.[0]?.message).toMatch(/depth limit of 12 exceeded, found 50/);
  });

  it('refuses a query whose nested lists multiply beyond the cost limit, also when the page size is a variable', async () => {
    // 100 patients × 100 appointments each: 10,000 appointments (with their doctors), ~30,000 objects.
    const nested = `query N($n: Int) { patients(first: $n) { edges { node { name appointments(first: $n) { edges { node { id start doctor { id } } } } } } } }`;
    const res = await graph.as(superToken, nested, { n: 100 });
    expect(res.status).toBe(400);
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(res.errors?.[0]?.message).toMatch(/^Query Cost limit of 20000 exceeded, found 30301\./);
    expect(res.errors?.[0]?.extensions).toMatchObject({ cost: 30301, maxCost: 20000 });
    // The same shape with small pages is an ordinary query (1 + 2 × (3 + 3 × 2) = 19).
    const small = await graph.as(superToken, nested, { n: 2 });
    expect(small.errors).toBeUndefined();
  });

  it('refuses 1,000 aliases in one query, and many aliases even when the query is short', async () => {
    const aliases = (n: number) => Array.from({ length: n }, (_v, i) => `a${i}: __typename`).join(' ');
    const huge = await graph.as(superToken, `{ ${aliases(1000)} }`);
    expect(huge.status).toBe(400);
    expect(huge.errors?.[0]?.extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
    expect(huge.errors?.[0]?.message).toMatch(/more that 3000 tokens/);
    const many = await graph.as(superToken, `{ ${Array.from({ length: 30 }, (_v, i) => `m${i}: me { id }`).join(' ')} }`);
    expect(many.status).toBe(400);
    expect(many.errors?.[0]?.message).toMatch(/aliases limit of 20 exceeded/i);
  });

  it('refuses a simple cross-site request (CSRF prevention) and an oversized body', async () => {
    const csrf = await fetch(graph.router.url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"query":"{ __typename }"}' });
    expect(csrf.status).toBe(400);
    const big = await postGraphQL(graph.router.url, `{ __typename }`, { pad: 'x'.repeat(200_000) });
    expect(big.status).toBe(413);
    expect(big.errors?.[0]?.extensions?.code).toBe('BAD_REQUEST');
  });

  it('subgraphs refuse calls without the router signature', async () => {
    const res = await postGraphQL(graph.subgraphs.accounts!.url, `{ users { edges { node { email } } } }`);
    expect(res.status).toBe(401);
    expect(res.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});

describe('rate limits and production settings', () => {
  it('limits requests per user and per anonymous IP, with a retry hint', async () => {
    const small = await startTestGraph([accountsSubgraph], { RATE_LIMIT_PER_MINUTE: '5', RATE_LIMIT_ANONYMOUS_PER_MINUTE: '3' });
    try {
      const token = await small.login(small.cfg.SUPERADMIN_EMAIL, small.cfg.SUPERADMIN_PASSWORD); // anonymous #1
      for (let i = 0; i < 5; i++) expect((await small.as(token, '{ me { id } }')).status).toBe(200);
      const limited = await fetch(small.router.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: '{ me { id } }' }),
      });
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      const body = (await limited.json()) as { errors: { extensions: { code: string; retryAfterSeconds: number } }[] };
      expect(body.errors[0].extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: expect.any(Number) });
      await small.gql('{ __typename }');
      await small.gql('{ __typename }');
      expect((await small.gql('{ __typename }')).status).toBe(429);
    } finally {
      await small.stop();
    }
  });

  it('turns introspection off in production', async () => {
    const prod = await startTestGraph([accountsSubgraph], {
      NODE_ENV: 'production',
      INTERNAL_SECRET: randomSecret('INTERNAL_SECRET'),
      JWT_SECRET: randomSecret('JWT_SECRET'),
      SUPERADMIN_PASSWORD: randomSecret('SUPERADMIN_PASSWORD'),
    });
    try {
      const res = await prod.gql('{ __schema { queryType { name } } }');
      expect(res.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(res.errors?.[0]?.message).toMatch(/introspection/i);
    } finally {
      await prod.stop();
    }
  });
});
