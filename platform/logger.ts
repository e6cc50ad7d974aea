import pino, { type Logger } from 'pino';

export type { Logger };

/** One JSON logger per process; children carry the service name and the request id. */
export function createLogger(service: string, level: string = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ['req.headers.authorization', 'headers.authorization'], remove: true },
  });
}
