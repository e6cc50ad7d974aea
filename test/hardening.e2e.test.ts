import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { accountsSubgraph } from '../subgraphs/accounts/index';
import { randomSecret } from '../scripts/secrets';
import { LOGIN, startTestGraph, type TestGraph } from './helpers';

/**
 * Security hardening through the real router and subgraphs: sign-in throttling that cannot lock
 * the real user out, X-Forwarded-For only from TRUST_PROXY, loopback by default, and processes
 * that refuse published or short secrets.
 */
const PASSWORD = 'the-users-own-password-1';
const CREATE_USER = `mutation C($input: CreateUserInput!) { createUser(input: $input) { id } }`;

interface SignIn {
  status: number;
  ok: boolean;
  code?: string;
  retryAfterSeconds?: number;
  /** The Retry-After header, in seconds. */
  retryAfterHeader?: number;
  /** The device cookie the router set (name=value), if it set one. */
  cookie?: string;
}

/** A client of the router: its own cookie jar (one device), optionally behind a proxy (X-Forwarded-For). */
class Client {
  cookie?: string;
  constructor(
    private readonly url: string,
    private readonly forwardedFor?: string,
  ) {}

  async signIn(email: string, password: string, forwardedFor = this.forwardedFor): Promise<SignIn> {
    const res = await fetch(this.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}),
        ...(this.cookie ? { cookie: this.cookie } : {}),
      },
      body: JSON.stringify({ query: LOGIN, variables: { email, password } }),
    });
    const set = res.headers.get('set-cookie')?.split(';')[0];
    if (set) this.cookie = set;
    const body = (await res.json()) as { data?: { login?: unknown } | null; errors?: { extensions?: { code?: string; retryAfterSeconds?: number } }[] };
    const ext = body.errors?.[0]?.extensions;
    const header = res.headers.get('retry-after');
    return {
      status: res.status,
      ok: Boolean(body.data?.login),
      code: ext?.code,
      retryAfterSeconds: ext?.retryAfterSeconds,
      retryAfterHeader: header === null ? undefined : Number(header),
      cookie: set,
    };
  }
}

async function createUser(graph: TestGraph, email: string): Promise<void> {
  const admin = await graph.login(graph.cfg.SUPERADMIN_EMAIL, graph.cfg.SUPERADMIN_PASSWORD);
  const res = await graph.as(admin, CREATE_USER, { input: { email, password: PASSWORD, role: 'NURSE' } });
  if (!res.data) throw new Error(JSON.stringify(res.errors));
}

describe('sign-in throttling behind a trusted proxy (TRUST_PROXY=127.0.0.1)', () => {
  let graph: TestGraph;
  beforeAll(async () => {
    graph = await startTestGraph([accountsSubgraph], { TRUST_PROXY: '127.0.0.1', LOGIN_MAX_FAILURES: '3', LOGIN_CLIENT_MAX_FAILURES: '5' });
  });
  afterAll(() => graph.stop());

  it('an attacker failing from one client cannot lock the real user out: the user signs in from a known device, the attacker waits longer each time', async () => {
    const email = 'victim@clinic.example';
    await createUser(graph, email);
    const phone = new Client(graph.router.url, '203.0.113.10');
    const first = await phone.signIn(email, PASSWORD);
    expect(first.ok).toBe(true);
    expect(phone.cookie).toMatch(/^hs_device=/);

    const attacker = new Client(graph.router.url, '198.51.100.7');
    for (let i = 0; i < 3; i++) expect(await attacker.signIn(email, `guess-number-${i}-wrong`)).toMatchObject({ ok: false, code: 'UNAUTHENTICATED' });
    const waits: number[] = [];
    for (let i = 0; i < 4; i++) {
      const refused = await attacker.signIn(email, `guess-number-${i + 3}-wrong`);
      expect(refused).toMatchObject({ ok: false, status: 429, code: 'RATE_LIMITED' });
      expect(refused.retryAfterHeader).toBe(refused.retryAfterSeconds);
      waits.push(refused.retryAfterSeconds!);
    }
    // Growing delays: every attempt made while waiting doubles the wait.
    for (let i = 1; i < waits.length; i++) expect(waits[i]).toBeGreaterThan(waits[i - 1]);
    // Even the right password does not get through from the attacker's client while it waits.
    expect(await attacker.signIn(email, PASSWORD)).toMatchObject({ ok: false, code: 'RATE_LIMITED' });

    // The real user, from the device they signed in with before: in, from home and from the
    // attacker's very network (a shared NAT) alike.
    expect(await phone.signIn(email, PASSWORD)).toMatchObject({ ok: true, status: 200 });
    expect(await phone.signIn(email, PASSWORD, '198.51.100.7')).toMatchObject({ ok: true, status: 200 });
    // From a new device elsewhere too: the email itself is never locked.
    expect(await new Client(graph.router.url, '203.0.113.99').signIn(email, PASSWORD)).toMatchObject({ ok: true });

    // The attacker's client still waits, longer than before.
    const after = await attacker.signIn(email, 'yet-another-wrong-guess');
    expect(after).toMatchObject({ code: 'RATE_LIMITED' });
    expect(after.retryAfterSeconds).toBeGreaterThan(waits[waits.length - 1]);
  });

  it('caps failures per client address across emails; a known device from that address still signs in', async () => {
    const email = 'shared.office@clinic.example';
    await createUser(graph, email);
    const colleague = new Client(graph.router.url, '192.0.2.200');
    expect((await colleague.signIn(email, PASSWORD)).ok).toBe(true);

    const sprayer = new Client(graph.router.url, '192.0.2.50');
    for (let i = 0; i < 5; i++) {
      expect(await sprayer.signIn(`someone${i}@clinic.example`, 'password-spray-1')).toMatchObject({ code: 'UNAUTHENTICATED' });
    }
    expect(await sprayer.signIn('someone9@clinic.example', 'password-spray-1')).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
    // A new device at that address waits too, whatever the email…
    expect(await new Client(graph.router.url, '192.0.2.50').signIn(email, PASSWORD)).toMatchObject({ code: 'RATE_LIMITED' });
    // …but a device that signed in to that email before does not.
    expect(await colleague.signIn(email, PASSWORD, '192.0.2.50')).toMatchObject({ ok: true });
  });

  it('believes X-Forwarded-For only as far as the trusted proxy: the address the proxy appended counts, not what the client wrote before it', async () => {
    const email = 'spoof.target@clinic.example';
    const attacker = new Client(graph.router.url);
    const tries = [];
    for (let i = 0; i < 5; i++) tries.push(await attacker.signIn(email, 'wrong-password-again', `10.9.${i}.1, 198.51.100.77`));
    expect(tries.map((t) => t.code)).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED', 'UNAUTHENTICATED', 'RATE_LIMITED', 'RATE_LIMITED']);
  });
});

describe('X-Forwarded-For without TRUST_PROXY (the default)', () => {
  let graph: TestGraph;
  beforeAll(async () => {
    graph = await startTestGraph([accountsSubgraph], { LOGIN_MAX_FAILURES: '3' });
  });
  afterAll(() => graph.stop());

  it('is ignored: rotating it does not make a new client, and the router listens on loopback only', async () => {
    const attacker = new Client(graph.router.url);
    const codes: (string | undefined)[] = [];
    for (let i = 0; i < 8; i++) codes.push((await attacker.signIn('rotating@clinic.example', 'wrong-password-again', `10.0.${i}.${i + 1}`)).code);
    expect(codes).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED', 'UNAUTHENTICATED', ...Array<string>(5).fill('RATE_LIMITED')]);

    expect(new URL(graph.router.url).hostname).toBe('127.0.0.1');
    expect(new URL(graph.subgraphs.accounts!.url).hostname).toBe('127.0.0.1');
    const external = Object.values(os.networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal);
    if (external) {
      const port = new URL(graph.router.url).port;
      await expect(fetch(`http://${external.address}:${port}/health`)).rejects.toThrow();
    }
  });
});

describe('secrets', () => {
  const ROOT = path.join(__dirname, '..');
  /** Starts a process's entry point with `env` over this environment; resolves with its exit code and stderr. */
  function run(entry: string, env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
    const proc = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, entry)], {
      env: { ...process.env, PORT: '0', LOG_LEVEL: 'silent', DB_CONNECT_RETRIES: '0', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    proc.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    return new Promise((resolve) => proc.once('close', (code) => resolve({ code, stderr })));
  }

  it('every process refuses a published default, a short or a missing secret, saying what to set', async () => {
    const [router, patients, accounts] = await Promise.all([
      run('router/index.ts', { INTERNAL_SECRET: 'healthsync-dev-internal-secret-change-me' }),
      run('subgraphs/patients/index.ts', { JWT_SECRET: 'short-jwt-secret', NODE_ENV: 'production' }),
      run('subgraphs/accounts/index.ts', { SUPERADMIN_PASSWORD: '', INTERNAL_SECRET: randomSecret('INTERNAL_SECRET') }),
    ]);
    expect(router.code).toBe(1);
    expect(router.stderr).toMatch(/^router refuses to start\. Invalid configuration:\n {2}INTERNAL_SECRET: is a published default/);
    expect(router.stderr).toMatch(/set INTERNAL_SECRET .* to a random string of at least 32 characters/);
    expect(router.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
    expect(patients.code).toBe(1);
    expect(patients.stderr).toMatch(/JWT_SECRET: is too short \(16 characters\)/);
    expect(accounts.code).toBe(1);
    expect(accounts.stderr).toMatch(/SUPERADMIN_PASSWORD: not set: set SUPERADMIN_PASSWORD/);
  });
});
