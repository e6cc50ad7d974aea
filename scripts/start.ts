import path from 'node:path';
import { createInterface } from 'node:readline';
import pino from 'pino';
import type { Readable, Writable } from 'node:stream';
import { DEFAULT_PORTS, SUBGRAPHS, subgraphUrlEnv, urlHost } from '../platform/services';
import { startDatabase, type Database } from './db';
import { restartDelayMs, Supervised } from './supervise';
import { exitWithParent } from '../platform/processExit';
import { loadConfig, seedDemoWanted } from '../platform/config';
import { consoleLogFormat, prettyLogLine } from './logFormat';
import { seedDemoData } from './seed';
import { DEMO_USERS } from './seed-data';
import { ensureLocalSecrets } from './secrets';
import { ensureWebBuild } from './webBuild';

/**
 * `npm start`: database, every subgraph, the router and the demo data, one command. A child that
 * exits on its own is started again after a pause that doubles with each quick exit (1 s … 30 s)
 * and says so; the others keep serving meanwhile. Ctrl-C stops every child cleanly (SIGTERM, then
 * the database).
 */
const ROOT = path.join(__dirname, '..');
const children: Supervised[] = [];
let db: Database | undefined;
let stopping = false;

const STABLE_MS = 60_000;

/** Children log pino JSON; in development each line is printed as `time service level msg …` (scripts/logFormat.ts). */
const PRETTY = consoleLogFormat(process.env) === 'pretty';
const COLOUR = PRETTY && Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;

/** npm start's own log lines (the seed's warnings), formatted like the children's. */
const ownLog = (service: string) =>
  pino(
    { level: 'warn', base: { service }, timestamp: pino.stdTimeFunctions.isoTime },
    PRETTY ? { write: (line: string) => void process.stdout.write(`${prettyLogLine(line.trimEnd(), { colour: COLOUR })}\n`) } : process.stdout,
  );

function relayLines(from: Readable | null, to: Writable, service: string): void {
  if (from) createInterface({ input: from, crlfDelay: Infinity }).on('line', (line) => to.write(`${prettyLogLine(line, { colour: COLOUR, service })}\n`));
}

function run(name: string, entry: string, env: NodeJS.ProcessEnv): void {
  // If npm start itself is killed (SIGKILL leaves it no time to stop them), its children stop too.
  const watch = exitWithParent();
  children.push(
    new Supervised({
      name,
      command: process.execPath,
      args: ['--import', 'tsx', path.join(ROOT, entry)],
      spawn: { cwd: ROOT, env: { ...process.env, ...env, ...watch.env }, stdio: [watch.stdin, PRETTY ? 'pipe' : 'inherit', PRETTY ? 'pipe' : 'inherit'] },
      stableMs: STABLE_MS,
      onSpawn: PRETTY
        ? (proc) => {
            relayLines(proc.stdout, process.stdout, name);
            relayLines(proc.stderr, process.stderr, name);
          }
        : undefined,
    }).start(),
  );
}

async function waitForHttp(url: string, name: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (stopping) return;
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${name} did not become ready at ${url} within ${timeoutMs / 1000}s`);
}

/** The embedded database, like every child, is started again (same port, same files) when it dies. */
function superviseDatabase(current: Database, quickExits: number): void {
  const startedAt = Date.now();
  void current.exited.then(async () => {
    if (stopping) return;
    let quick = Date.now() - startedAt < STABLE_MS ? quickExits + 1 : 0;
    for (;;) {
      const delay = restartDelayMs(Math.max(quick - 1, 0));
      console.error(`\ndatabase exited unexpectedly; restarting it in ${delay / 1000} s (services wait for it and are not ready meanwhile).`);
      await new Promise((r) => setTimeout(r, delay));
      if (stopping) return;
      try {
        db = await startDatabase({ port: Number(new URL(current.uri).port) });
        console.error('database restarted.');
        superviseDatabase(db, quick);
        return;
      } catch (err) {
        console.error(`database did not start: ${(err as Error).message}`);
        quick++;
      }
    }
  });
}

async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  await Promise.all(children.map((child) => child.stop()));
  await db?.stop();
  process.exit(code);
}

async function main(): Promise<void> {
  // Secrets from the environment, else from .data/secrets.json (created with random ones on the
  // first start): every child gets them in its environment; none is ever printed.
  const secrets = ensureLocalSecrets();
  const relFile = path.relative(process.cwd(), secrets.file) || secrets.file;
  const cfg = loadConfig({ ...process.env, ...secrets.values });
  if (secrets.created.length) console.log(`secrets: created ${secrets.created.join(', ')} in ${relFile} (readable by you only; kept for the next starts)`);
  else if (secrets.fromEnv.length < Object.keys(secrets.values).length) console.log(`secrets: from ${relFile}${secrets.fromEnv.length ? ` and the environment (${secrets.fromEnv.join(', ')})` : ''}`);
  // Ctrl-C reaches npm, tsx and this process (tsx passes it on once more): every signal after the
  // first is ignored while the children stop, so their last log lines still pass through here.
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));

  // The admin web app, bundled when missing or older than its sources (a no-op otherwise).
  ensureWebBuild((line) => console.log(line));

  db = await startDatabase({ port: process.env.DB_PORT ? Number(process.env.DB_PORT) : undefined });
  superviseDatabase(db, 0);
  console.log(`database: ${db.uri}${db.external ? ' (MONGODB_URI)' : ' (embedded FerretDB, data in .data/ferretdb)'}`);
  // Demo-friendly: reports refresh every minute unless configured (production default: 5 min).
  const env = { ...secrets.values, MONGODB_URI: db.uri, ANALYTICS_REFRESH_SECONDS: process.env.ANALYTICS_REFRESH_SECONDS ?? '60' };

  // Every process listens on HOST (loopback unless set); this is how they are reached from here.
  const host = urlHost(cfg.HOST);
  const urls = Object.fromEntries(SUBGRAPHS.map((name) => [subgraphUrlEnv(name), `http://${host}:${DEFAULT_PORTS[name]}/graphql`]));
  for (const name of SUBGRAPHS) {
    run(name, `subgraphs/${name}/index.ts`, { ...env, ...urls, PORT: String(DEFAULT_PORTS[name]) });
  }
  await Promise.all(SUBGRAPHS.map((name) => waitForHttp(`http://${host}:${DEFAULT_PORTS[name]}/ready`, name)));

  // Demo data unless SEED_DEMO=false (or NODE_ENV=production without SEED_DEMO=true).
  const seedCfg = loadConfig({ ...process.env, ...env });
  const seed = seedDemoWanted(seedCfg);
  if (seed) {
    const seeded = await seedDemoData(seedCfg, ownLog('seed'));
    console.log(`demo data: ${seeded.doctors} doctors, ${seeded.patients} patients, ${seeded.users} users, ${seeded.appointments} appointments, ${seeded.medications} medications and prescriptions added (existing records kept)`);
  } else {
    console.log(`demo data: not seeded (SEED_DEMO=${seedCfg.SEED_DEMO ?? 'unset'}, NODE_ENV=${seedCfg.NODE_ENV})`);
  }

  const routerPort = Number(process.env.PORT ?? DEFAULT_PORTS.router);
  run('router', 'router/index.ts', { ...env, ...urls, PORT: String(routerPort) });
  await waitForHttp(`http://${host}:${routerPort}/health`, 'router');
  const site = `http://${host === '127.0.0.1' ? 'localhost' : host}:${routerPort}`;

  console.log(
    [
      '',
      'HealthSync is running.',
      `  admin web app:                ${site}/`,
      `  GraphQL (and Apollo Sandbox): ${site}/graphql`,
      ...SUBGRAPHS.map((n) => `  subgraph ${n.padEnd(14)} http://${host}:${DEFAULT_PORTS[n]}/graphql (router calls only)`),
      '',
      'Sign in with the `login` mutation, then send `Authorization: Bearer <accessToken>`:',
      `  super admin  ${cfg.SUPERADMIN_EMAIL} / ${secrets.fromEnv.includes('SUPERADMIN_PASSWORD') ? 'your SUPERADMIN_PASSWORD' : `the SUPERADMIN_PASSWORD in ${relFile}`}`,
      ...(seed
        ? [
            ...DEMO_USERS.map((u) => `  ${u.role.toLowerCase().padEnd(12)} ${u.email}`),
            `  (demo users: ${secrets.fromEnv.includes('DEMO_PASSWORD') ? 'your DEMO_PASSWORD' : `the DEMO_PASSWORD in ${relFile}`})`,
          ]
        : []),
      '',
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
}

main().catch((err: unknown) => {
  console.error((err as Error).message);
  void shutdown(1);
});
