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
  DB_CONNECT_RETRIES: z.coerce.number().int().min(0).default(10),
  SUBGRAPH_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  CLINIC_TIME_ZONE: z.string().default('Europe/Berlin'),
  /** Interface subgraphs listen on: loopback by default, 0.0.0.0 inside containers. */
  HOST: z.string().default('127.0.0.1'),
});

export type Config = z.infer<typeof schema> & { INTERNAL_SECRET: string };

/** A development-only default; production refuses to start without INTERNAL_SECRET. */
const DEV_INTERNAL_SECRET = 'healthsync-dev-internal-secret-change-me';

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const cfg = parsed.data;
  if (!cfg.INTERNAL_SECRET && cfg.NODE_ENV === 'production') {
    throw new Error('Invalid configuration:\n  INTERNAL_SECRET: required when NODE_ENV=production');
  }
  return { ...cfg, INTERNAL_SECRET: cfg.INTERNAL_SECRET ?? DEV_INTERNAL_SECRET };
}

/** Database name of one service: one database per service. */
export function dbName(cfg: Pick<Config, 'DB_PREFIX'>, service: string): string {
  return `${cfg.DB_PREFIX}_${service}`;
}
