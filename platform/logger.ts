import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * One JSON logger per process; children carry the service name and the request id. Lines are
 * written to stdout synchronously: a line logged before a process is killed is out (pino's default
 * buffers and writes later, and `kill -9` lost what was buffered). Some lines are records: the
 * simulated channel's delivery line is the delivery, written before the message is marked SENT,
 * and audit entries that could not be stored are logged in full. HealthSync logs little (requests
 * at debug), so the cost is a write call per line.
 */
export function createLogger(service: string, level: string = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino(
    {
      level,
      base: { service },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: ['req.headers.authorization', 'headers.authorization'], remove: true },
    },
    pino.destination({ dest: 1, sync: true }),
  );
}
