import { z } from 'zod';

/**
 * Validated configuration from the environment. Every process reads it through loadConfig();
 * a bad value stops the process at start-up with one readable message.
 */
const schema = z.object({
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
  MAX_QUERY_COST: z.coerce.number().int().positive().default(5000),
  MAX_QUERY_TOKENS: z.coerce.number().int().positive().default(3000),
  MAX_REQUEST_BYTES: z.coerce.number().int().positive().default(102_400),
  DB_CONNECT_RETRIES: z.coerce.number().int().min(0).default(10),
  SUBGRAPH_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  CLINIC_TIME_ZONE: z.string().default('Europe/Berlin'),
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
