import mongoose, { type Connection } from 'mongoose';
import { dbName, type Config } from './config';
import type { Logger } from './logger';

export const NO_DATABASE_HELP = [
  'No MongoDB-wire server is reachable. Ways out:',
  '  - set MONGODB_URI to a running MongoDB (e.g. mongodb://127.0.0.1:27017), or',
  '  - run `docker compose up mongo` and use MONGODB_URI=mongodb://127.0.0.1:27017, or',
  '  - install Go (https://go.dev/dl) so `npm start` can build and run the embedded FerretDB.',
].join('\n');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Logs when the driver marks the server unreachable (with its reason) and when it is reachable
 * again, once per change: what an operator reads to see a connection that does not come back.
 */
function logReachability(conn: Connection, db: string, log: Logger): void {
  let lostSince: number | null = null;
  conn.getClient().on('serverDescriptionChanged', ({ newDescription }) => {
    const lost = newDescription.type === 'Unknown';
    if (lost && lostSince === null) {
      lostSince = Date.now();
      log.warn({ db, err: newDescription.error?.message }, 'database unreachable');
    } else if (!lost && lostSince !== null) {
      log.info({ db, downMs: Date.now() - lostSince }, 'database reachable again');
      lostSince = null;
    }
  });
}

/**
 * Opens the service's own database (`<prefix>_<service>`) with retry and backoff, so a service
 * started before its database waits instead of crashing. Throws with NO_DATABASE_HELP at the end.
 */
export async function connectDb(cfg: Config, service: string, log: Logger): Promise<Connection> {
  const uri = cfg.MONGODB_URI;
  if (!uri) throw new Error(`MONGODB_URI is not set.\n${NO_DATABASE_HELP}`);
  const name = dbName(cfg, service);
  let lastError: unknown;
  for (let attempt = 0; attempt <= cfg.DB_CONNECT_RETRIES; attempt++) {
    const conn = mongoose.createConnection(uri, {
      dbName: name,
      serverSelectionTimeoutMS: 3_000,
      autoIndex: false,
      // Command events time every command for /metrics (platform/metrics.ts watchDatabase).
      monitorCommands: true,
    });
    try {
      await conn.asPromise();
      log.info({ db: name }, 'database connected');
      logReachability(conn, name, log);
      return conn;
    } catch (err) {
      lastError = err;
      await conn.close().catch(() => undefined);
      const wait = Math.min(500 * 2 ** attempt, 5_000);
      log.warn({ db: name, attempt, waitMs: wait, err: (err as Error).message }, 'database not reachable, retrying');
      if (attempt < cfg.DB_CONNECT_RETRIES) await sleep(wait);
    }
  }
  throw new Error(`Could not connect to ${name}: ${(lastError as Error)?.message}\n${NO_DATABASE_HELP}`);
}
