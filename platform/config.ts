import { isIP } from 'node:net';
import { z } from 'zod';
import { SUBGRAPHS, subgraphUrlEnv, type SubgraphName } from './services';

/**
 * Validated configuration from the environment. Every process reads it through loadConfig();
 * a bad value stops the process at start-up with one readable message.
 */
/** SUBGRAPH_<NAME>_URL: where the router and other services reach a subgraph. */
const subgraphUrls = Object.fromEntries(SUBGRAPHS.map((n) => [subgraphUrlEnv(n), z.string().url().optional()])) as Record<
  `SUBGRAPH_${Uppercase<(typeof SUBGRAPHS)[number]>}_URL`,
  z.ZodOptional<z.ZodString>
>;

const schema = z.object({
  ...subgraphUrls,
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  MONGODB_URI: z.string().min(1).optional(),
  DB_PREFIX: z
    .string()
    .regex(/^[a-z0-9_]+$/, 'only lower-case letters, digits and _')
    .default('healthsync'),
  /** Secrets: required in every process, checked by secretProblem() (never a published value). */
  INTERNAL_SECRET: z.string().optional(),
  JWT_SECRET: z.string().optional(),
  ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(30).max(86_400).default(900),
  REFRESH_TOKEN_TTL_DAYS: z.coerce.number().int().min(1).max(90).default(7),
  /** Sign-in throttling (subgraphs/accounts/throttle.ts): failures of one (email, client) pair before delays start. */
  LOGIN_MAX_FAILURES: z.coerce.number().int().min(1).default(5),
  /** The first delay; each further failure of the pair doubles it, up to LOGIN_MAX_DELAY_MINUTES. */
  LOGIN_DELAY_SECONDS: z.coerce.number().int().min(1).default(30),
  LOGIN_MAX_DELAY_MINUTES: z.coerce.number().int().min(1).default(15),
  /** Failed sign-ins from one client address (any emails, devices not known) before its delays start. */
  LOGIN_CLIENT_MAX_FAILURES: z.coerce.number().int().min(1).default(30),
  BCRYPT_ROUNDS: z.coerce.number().int().min(4).max(15).default(11),
  SUPERADMIN_EMAIL: z.string().email().default('superadmin@healthsync.local'),
  SUPERADMIN_PASSWORD: z.string().optional(),
  /** Password of the demo users (scripts/seed.ts creates them only when it is set). */
  DEMO_PASSWORD: z.string().optional(),
  /**
   * Demo data (scripts/seed.ts): 'true' seeds, 'false' never; unset seeds outside production only
   * (`npm start` in development), so a production installation gets no demo records by default.
   */
  SEED_DEMO: z.enum(['true', 'false']).optional(),
  /** Log lines: JSON (pino) or pretty in `npm start`'s console; unset = JSON in production, pretty otherwise. */
  LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().positive().default(600),
  RATE_LIMIT_ANONYMOUS_PER_MINUTE: z.coerce.number().int().positive().default(120),
  MAX_QUERY_DEPTH: z.coerce.number().int().positive().default(12),
  MAX_ALIASES: z.coerce.number().int().positive().default(20),
  MAX_QUERY_COST: z.coerce.number().int().positive().default(20_000),
  MAX_QUERY_TOKENS: z.coerce.number().int().positive().default(3000),
  MAX_REQUEST_BYTES: z.coerce.number().int().positive().default(102_400),
  /** Open WebSocket (graphql-ws) connections one user may hold per router instance; the next is closed with 4429. */
  WS_MAX_CONNECTIONS_PER_USER: z.coerce.number().int().positive().default(10),
  /** Subscriptions one WebSocket connection may hold at a time. */
  WS_MAX_SUBSCRIPTIONS_PER_CONNECTION: z.coerce.number().int().positive().default(25),
  /**
   * The address at which the services reach this router's live-event doorbell (a UDP port it picks,
   * platform/doorbell.ts), while it serves subscriptions: e.g. the router's container name. Empty:
   * no doorbell, events are read at the router's next poll of the stream (every 20 ms).
   */
  LIVE_DOORBELL_HOST: z.string().default('127.0.0.1'),
  /** How often Agenda workers look for due jobs, and how long a job's lock lives. */
  JOBS_PROCESS_EVERY_MS: z.coerce.number().int().min(50).default(1000),
  JOB_LOCK_LIFETIME_MS: z.coerce.number().int().min(500).default(60_000),
  /** How long a finished one-off job stays in the jobs collection (for inspection) before it is deleted. */
  JOB_RETENTION_HOURS: z.coerce.number().min(0).default(72),
  /** How often each service's outbox relay sweeps for events not handed on yet. */
  OUTBOX_SWEEP_SECONDS: z.coerce.number().int().min(1).default(5),
  DB_CONNECT_RETRIES: z.coerce.number().int().min(0).default(10),
  SUBGRAPH_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  /** Keep-alive connections a process keeps open to each subgraph it calls (platform/httpPool.ts); more calls at once wait for one. */
  SUBGRAPH_CONNECTIONS: z.coerce.number().int().positive().default(128),
  CLINIC_TIME_ZONE: z.string().default('Europe/Berlin'),
  CLINIC_NAME: z.string().min(1).default('HealthSync Clinic'),
  /** Delivery attempts of one notification before it is FAILED. */
  NOTIFY_MAX_ATTEMPTS: z.coerce.number().int().min(1).default(5),
  /** How often medication reminders are swept (each dose's reminder still goes out once). */
  /** How often the analytics job recomputes the materialised reports. */
  ANALYTICS_REFRESH_SECONDS: z.coerce.number().int().min(1).default(300),
  MEDICATION_REMINDER_EVERY_MINUTES: z.coerce.number().int().min(1).max(60).default(15),
  /** How often due appointment reminders are looked for and sent (one job, in batches). */
  REMINDER_POLL_SECONDS: z.coerce.number().int().min(1).max(3600).default(15),
  /** Fault injection for tests only: a notifications worker pauses this long before delivering. */
  NOTIFICATIONS_FAULT_PAUSE_BEFORE_SEND_MS: z.coerce.number().int().min(0).default(0),
  /** Interface the router and subgraphs listen on: loopback by default, 0.0.0.0 inside containers. */
  HOST: z.string().min(1).default('127.0.0.1'),
  /**
   * Proxies whose X-Forwarded-For the router believes (comma-separated addresses or CIDRs, or
   * proxy-addr's names loopback / linklocal / uniquelocal). None by default: the client is the peer.
   */
  TRUST_PROXY: z
    .string()
    .default('')
    .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
    .refine((list) => list.every(isProxyAddress), 'comma-separated IP addresses or CIDRs (e.g. 10.0.0.5, 10.1.0.0/16), or loopback / linklocal / uniquelocal'),
  /**
   * Browser origins allowed to call the router's /graphql cross-origin (CORS), comma-separated,
   * each exactly as the browser sends it (scheme://host[:port]). None by default: no CORS headers.
   */
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
    .refine((list) => list.every(isOrigin), 'comma-separated origins such as https://app.example.org or http://localhost:5173 (scheme, host and a port other than the default; no path, no trailing slash, no *)'),
  /**
   * Trusted documents: comma-separated paths of persisted query manifests (Apollo's format, e.g.
   * schema/web-operations.json). When set, the router runs only the operations they list.
   */
  TRUSTED_DOCUMENTS: z
    .string()
    .default('')
    .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean)),
});

/** An origin as browsers send it in the Origin header: lower-case, no default port, no path. */
function isOrigin(entry: string): boolean {
  try {
    const url = new URL(entry);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === entry;
  } catch {
    return false;
  }
}

function isProxyAddress(entry: string): boolean {
  if (['loopback', 'linklocal', 'uniquelocal'].includes(entry)) return true;
  const [address, bits, ...rest] = entry.split('/');
  const kind = isIP(address);
  if (!kind || rest.length) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (kind === 4 ? 32 : 128);
}

export type Config = z.infer<typeof schema> & { INTERNAL_SECRET: string; JWT_SECRET: string; SUPERADMIN_PASSWORD: string };

/** The secrets, their minimum length, and how to make one. Every process needs the required ones. */
export const SECRETS = {
  INTERNAL_SECRET: { minLength: 32, what: 'HMAC key between the router and the subgraphs', make: 'openssl rand -hex 32', required: true },
  JWT_SECRET: { minLength: 32, what: 'key of the access tokens (accounts and router)', make: 'openssl rand -hex 32', required: true },
  SUPERADMIN_PASSWORD: { minLength: 12, what: 'password of the first super admin', make: 'openssl rand -base64 18', required: true },
  DEMO_PASSWORD: { minLength: 12, what: 'password of the demo users', make: 'openssl rand -base64 18', required: false },
} as const;
export type SecretName = keyof typeof SECRETS;
/** Every secret, also the optional DEMO_PASSWORD (`npm start` keeps them all in its secrets file). */
export const ALL_SECRET_NAMES = Object.keys(SECRETS) as SecretName[];
/** The secrets every process refuses to start without. */
export const SECRET_NAMES = ALL_SECRET_NAMES.filter((name) => SECRETS[name].required);

/**
 * Values published in this repository or its history (the former development defaults, demo and
 * test values, documentation placeholders): whoever read them could use them, so no process accepts
 * them as a secret. platform/config.test.ts checks that every secret-like value in the repository
 * is refused (listed here or caught by the rules in secretProblem).
 */
const PUBLISHED_SECRETS = new Set(
  [
    'healthsync-dev-internal-secret-change-me',
    'healthsync-dev-jwt-secret-change-me-0123456789',
    'ChangeMe-SuperAdmin-1',
    'HealthSync-demo-1',
    'prod-internal-secret-0123456789',
    'prod-jwt-secret-0123456789-0123456789',
    'prod-superadmin-password',
    'an-attackers-secret-that-is-long-enough',
    'a-long-enough-password',
    'a-brand-new-password',
  ].map((v) => v.toLowerCase()),
);
/** Placeholder words no real secret contains. */
const PLACEHOLDER = /change[-_ ]?me|changeit|replace[-_ ]?me|placeholder|example|your[-_ ]|secret[-_]?here|password[-_]?here|^\.\.\.$|^<.*>$/i;

/** What is wrong with a secret's value, or null when it may protect a running graph. */
export function secretProblem(name: SecretName, value: string | undefined): string | null {
  const { minLength, what, make } = SECRETS[name];
  const how = `set ${name} (${what}) to a random string of at least ${minLength} characters, e.g. \`${make}\`; \`npm start\` creates one in .data/secrets.json`;
  if (value === undefined || value === '') return `not set: ${how}`;
  if (PUBLISHED_SECRETS.has(value.toLowerCase()) || PLACEHOLDER.test(value)) return `is a published default or placeholder, known to anyone who reads HealthSync's code: ${how}`;
  if (value.length < minLength) return `is too short (${value.length} characters): ${how}`;
  if (new Set(value).size < Math.min(8, minLength / 2)) return `is too simple (too few different characters): ${how}`;
  return null;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  const lines = parsed.success ? [] : parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
  for (const name of ALL_SECRET_NAMES) {
    if (!SECRETS[name].required && !env[name]) continue;
    const problem = secretProblem(name, env[name]);
    if (problem) lines.push(`  ${name}: ${problem}`);
  }
  if (!parsed.success || lines.length) throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  const cfg = parsed.data;
  return { ...cfg, INTERNAL_SECRET: cfg.INTERNAL_SECRET!, JWT_SECRET: cfg.JWT_SECRET!, SUPERADMIN_PASSWORD: cfg.SUPERADMIN_PASSWORD! };
}

/**
 * loadConfig for a process's entry point: a bad configuration (a secret missing, published or too
 * short, …) ends the process with exit code 1 and the message saying what to set, no stack trace.
 */
export function loadConfigOrExit(processName: string, env: NodeJS.ProcessEnv = process.env): Config {
  try {
    return loadConfig(env);
  } catch (err) {
    process.stderr.write(`${processName} refuses to start. ${(err as Error).message}\n`);
    process.exit(1);
  }
}

/** Whether scripts/seed.ts adds the demo data: SEED_DEMO=true, or SEED_DEMO unset outside production. */
export function seedDemoWanted(cfg: Pick<Config, 'SEED_DEMO' | 'NODE_ENV'>): boolean {
  return cfg.SEED_DEMO === undefined ? cfg.NODE_ENV !== 'production' : cfg.SEED_DEMO === 'true';
}

/** Database name of one service: one database per service. */
/** Where the config says a subgraph answers (`SUBGRAPH_<NAME>_URL`), if it says so. */
export function configuredSubgraphUrl(cfg: Config, name: SubgraphName): string | undefined {
  return cfg[subgraphUrlEnv(name) as keyof Config] as string | undefined;
}

export function dbName(cfg: Pick<Config, 'DB_PREFIX'>, service: string): string {
  return `${cfg.DB_PREFIX}_${service}`;
}
