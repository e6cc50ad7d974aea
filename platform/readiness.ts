import type { RequestHandler } from 'express';
import type { Connection } from 'mongoose';
import { runningAgendas } from './jobs';
import { pollHealth } from './jobPoll';
import { Subscriber } from './pubsub';

/** A readiness condition: null when met, otherwise why not (a short sentence for the JSON answer). */
export type ReadinessCheck = () => Promise<string | null>;

/** A check that has not answered in this long counts as failed. */
export const CHECK_TIMEOUT_MS = 2_000;

async function run(check: ReadinessCheck): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      check(),
      new Promise<string>((resolve) => {
        timer = setTimeout(() => resolve(`no answer within ${CHECK_TIMEOUT_MS} ms`), CHECK_TIMEOUT_MS);
      }),
    ]);
  } catch (err) {
    return (err as Error).message;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * GET /ready: 200 `{status: "ready"}` when every check passes, otherwise 503 `{status: "not ready",
 * reasons: {<check>: <why>}}`. Checks run in parallel, each bounded by CHECK_TIMEOUT_MS; probes that
 * arrive while a round runs share it. `/health` stays the cheap liveness probe beside it.
 */
export function readinessHandler(service: string, checks: Record<string, ReadinessCheck>): RequestHandler {
  let round: Promise<Record<string, string>> | null = null;
  const evaluate = async () => {
    const results = await Promise.all(Object.entries(checks).map(async ([name, check]) => [name, await run(check)] as const));
    return Object.fromEntries(results.filter((r): r is readonly [string, string] => r[1] !== null));
  };
  return (_req, res, next) => {
    const current = (round ??= evaluate().finally(() => (round = null)));
    current.then((reasons) => {
      const ready = Object.keys(reasons).length === 0;
      res.status(ready ? 200 : 503).json(ready ? { status: 'ready', service } : { status: 'not ready', service, reasons });
    }, next);
  };
}

/** The service's database answers a ping. */
export function databaseCheck(conn: Connection): ReadinessCheck {
  return async () => {
    if (conn.readyState !== 1) return 'database not connected';
    await conn.db!.admin().ping();
    return null;
  };
}

/** Each Agenda worker of the service is started and its last poll of the jobs collection did not fail (platform/jobPoll.ts). */
export function jobWorkerCheck(service: string): ReadinessCheck {
  return async () => {
    for (const agenda of runningAgendas(service)) {
      if (!agenda._processInterval) return 'job worker not started';
      const last = pollHealth(agenda);
      if (last && !last.ok) return `job worker's last poll failed: ${last.error ?? 'unknown error'}`;
    }
    return null;
  };
}

/** Every live-event reader opened on the connection (platform/pubsub.ts) is tailing the stream. */
export function liveEventsCheck(readers: () => Subscriber[]): ReadinessCheck {
  return async () => (readers().every((r) => r.tailing) ? null : 'live-event stream not being read');
}
