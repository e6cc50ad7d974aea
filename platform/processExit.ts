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

/**
 * Set to "1" by a parent that starts this process with a stdin pipe it never writes to
 * (`exitWithParent`): the pipe reaches its end when the parent is gone, however it died (also
 * SIGKILL, which leaves no chance to stop children), and the process then stops as on SIGTERM.
 * Without it a killed test runner, benchmark or `npm start` leaves its services running.
 */
export const EXIT_WITH_PARENT_ENV = 'HEALTHSYNC_EXIT_WITH_PARENT';

/** What a parent adds to a child's environment and stdin so the child stops when the parent is gone. */
export function exitWithParent(): { env: Record<string, string>; stdin: 'pipe' } {
  return { env: { [EXIT_WITH_PARENT_ENV]: '1' }, stdin: 'pipe' };
}

/**
 * In a child started with `exitWithParent`: calls `stop` once when the parent is gone. Call it at
 * start; `stop` may change later (e.g. from "exit" to "shut down cleanly" once the service runs).
 */
export function onParentGone(stop: () => void): void {
  if (process.env[EXIT_WITH_PARENT_ENV] !== '1') return;
  let called = false;
  const gone = () => {
    if (called) return;
    called = true;
    stop();
  };
  process.stdin.on('error', gone);
  process.stdin.once('end', gone);
  process.stdin.once('close', gone);
  // Read (and drop) whatever comes, so the end of the pipe is seen.
  process.stdin.on('data', () => undefined);
  process.stdin.resume();
}

/**
 * How a service main learns it must stop: SIGTERM, SIGINT, or (started with `exitWithParent`) its
 * parent gone. Call at start; until `onStop` hands over the service's clean shutdown, a parent that
 * goes just ends the process.
 */
export function stopRequests(): { onStop(shutdown: (reason: string) => void): void } {
  let stop: (reason: string) => void = () => process.exit(1);
  onParentGone(() => stop('parent gone'));
  return {
    onStop(shutdown) {
      stop = shutdown;
      process.once('SIGTERM', shutdown);
      process.once('SIGINT', shutdown);
    },
  };
}
