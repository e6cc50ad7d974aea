import { z } from 'zod';
import { SUBGRAPHS, subgraphUrlEnv } from './services';

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
  INTERNAL_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(30).max(86_400).default(900),
  REFRESH_TOKEN_TTL_DAYS: z.coerce.number().int().min(1).max(90).default(7),
  LOGIN_MAX_FAILURES: z.coerce.number().int().min(1).default(5),
  LOGIN_LOCK_MINUTES: z.coerce.number().int().min(1).default(15),
  BCRYPT_ROUNDS: z.coerce.number().int().min(4).max(15).default(11),
  SUPERADMIN_EMAIL: z.string().email().default('superadmin@healthsync.local'),
  SUPERADMIN_PASSWORD: z.string().min(12, 'must be at least 12 characters').optional(),
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
  /** How often Agenda workers look for due jobs, and how long a job's lock lives. */
  JOBS_PROCESS_EVERY_MS: z.coerce.number().int().min(50).default(1000),
  JOB_LOCK_LIFETIME_MS: z.coerce.number().int().min(500).default(60_000),
  /** How long a finished one-off job stays in the jobs collection (for inspection) before it is deleted. */
  JOB_RETENTION_HOURS: z.coerce.number().min(0).default(72),
  /** How often each service's outbox relay sweeps for events not handed on yet. */
  OUTBOX_SWEEP_SECONDS: z.coerce.number().int().min(1).default(5),
  DB_CONNECT_RETRIES: z.coerce.number().int().min(0).default(10),
  /** Emit driver command events (the N+1 test counts queries with them). */
  DB_MONITOR_COMMANDS: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  SUBGRAPH_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
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
  /** Interface subgraphs listen on: loopback by default, 0.0.0.0 inside containers. */
  HOST: z.string().default('127.0.0.1'),
});

export type Config = z.infer<typeof schema> & { INTERNAL_SECRET: string; JWT_SECRET: string; SUPERADMIN_PASSWORD: string };

/** Development-only defaults; production refuses to start without its own secrets. */
export const DEV_DEFAULTS = {
  INTERNAL_SECRET: 'healthsync-dev-internal-secret-change-me',
  JWT_SECRET: 'healthsync-dev-jwt-secret-change-me-0123456789',
  SUPERADMIN_PASSWORD: 'ChangeMe-SuperAdmin-1',
} as const;
const SECRETS = ['INTERNAL_SECRET', 'JWT_SECRET', 'SUPERADMIN_PASSWORD'] as const;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const cfg = parsed.data;
  if (cfg.NODE_ENV === 'production') {
    const missing = SECRETS.filter((k) => !cfg[k]);
    if (missing.length) throw new Error(`Invalid configuration:\n${missing.map((k) => `  ${k}: required when NODE_ENV=production`).join('\n')}`);
  }
  return {
    ...cfg,
    INTERNAL_SECRET: cfg.INTERNAL_SECRET ?? DEV_DEFAULTS.INTERNAL_SECRET,
    JWT_SECRET: cfg.JWT_SECRET ?? DEV_DEFAULTS.JWT_SECRET,
    SUPERADMIN_PASSWORD: cfg.SUPERADMIN_PASSWORD ?? DEV_DEFAULTS.SUPERADMIN_PASSWORD,
  };
}

/** Database name of one service: one database per service. */
export function dbName(cfg: Pick<Config, 'DB_PREFIX'>, service: string): string {
  return `${cfg.DB_PREFIX}_${service}`;
}
