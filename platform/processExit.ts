import type { Logger } from './logger';

/**
 * A rejection nobody handles leaves the process in an unknown state: say what it was in the log,
 * then exit so the supervisor (npm start, the container platform) starts a clean one. Every
 * service process (subgraphs and router) installs this once at start.
 */
export function exitOnUnhandledRejection(log: Logger): void {
  process.once('unhandledRejection', (reason: unknown) => {
    log.fatal({ err: reason instanceof Error ? { name: reason.name, message: reason.message } : String(reason) }, 'unhandled rejection; exiting for a clean restart');
    process.exit(1);
  });
}
