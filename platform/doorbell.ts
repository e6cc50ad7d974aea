import { randomUUID } from 'node:crypto';
import dgram from 'node:dgram';
import type { Connection, mongo } from 'mongoose';
import type { Logger } from './logger';

/**
 * Wake-up hints for the live stream (platform/pubsub.ts). A reader that needs events at once (a
 * router serving subscriptions) opens a Doorbell: a UDP port of its own, registered in the events
 * database. A publisher rings every registered doorbell after it stored an event; the reader then
 * reads the stream at once instead of at its next poll. A ring carries nothing: the stream stays
 * the only source of events, its order and its resumption, and a lost, late or forged datagram
 * only moves a poll (a reader also polls on its own cadence). This is what LISTEN/NOTIFY or a
 * change stream would give, on a database (FerretDB 1.24) that has neither.
 */
export const DOORBELLS = 'live_doorbells';

export interface DoorbellDoc {
  _id: string;
  host: string;
  port: number;
  seenAt: Date;
}

/** A doorbell says it is alive this often; one not seen for STALE_MS is not rung any more. */
const REFRESH_MS = 5_000;
const STALE_MS = 20_000;
/** Registrations left behind by readers that died are removed after this long. */
const FORGET_MS = 10 * 60_000;
/** How often a publisher re-reads the registered doorbells. */
const LIST_MS = 2_000;

const RING = Buffer.from([1]);

function doorbells(conn: Connection, dbName: string): mongo.Collection<DoorbellDoc> {
  return conn.useDb(dbName, { useCache: true }).db!.collection<DoorbellDoc>(DOORBELLS);
}

/** The UDP socket type that reaches `host` (an IPv6 address has colons). */
const familyOf = (host: string): 'udp4' | 'udp6' => (host.includes(':') ? 'udp6' : 'udp4');

/** The reader's side: a UDP port that calls `onRing` for each datagram, registered while open. */
export class Doorbell {
  private readonly id = randomUUID();
  private timer: NodeJS.Timeout | null = null;

  private constructor(
    private readonly collection: mongo.Collection<DoorbellDoc>,
    private readonly socket: dgram.Socket,
    private readonly host: string,
    private readonly log: Logger,
  ) {}

  /**
   * `host`: the address publishers reach this process at (LIVE_DOORBELL_HOST); the socket listens
   * on it when it is a loopback address, on every interface otherwise (a container's name).
   */
  static async open(conn: Connection, dbName: string, host: string, log: Logger, onRing: () => void): Promise<Doorbell> {
    const socket = dgram.createSocket(familyOf(host));
    socket.on('message', () => onRing());
    socket.on('error', (err) => log.warn({ err: err.message }, 'live doorbell socket error'));
    const loopback = host === 'localhost' || host.startsWith('127.') || host === '::1';
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, loopback ? host : undefined, () => (socket.off('error', reject), resolve()));
    });
    socket.unref();
    const bell = new Doorbell(doorbells(conn, dbName), socket, host, log);
    await bell.register();
    bell.timer = setInterval(() => void bell.register(), REFRESH_MS);
    bell.timer.unref();
    return bell;
  }

  get port(): number {
    return this.socket.address().port;
  }

  private async register(): Promise<void> {
    const now = new Date();
    try {
      await this.collection.updateOne({ _id: this.id }, { $set: { host: this.host, port: this.port, seenAt: now } }, { upsert: true });
      await this.collection.deleteMany({ seenAt: { $lt: new Date(now.getTime() - FORGET_MS) } });
    } catch (err) {
      // Publishers stop ringing a doorbell they have not seen for STALE_MS: polls still deliver.
      this.log.warn({ err: (err as Error).message }, 'live doorbell not registered; events arrive at the next poll');
    }
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.collection.deleteOne({ _id: this.id }).catch(() => undefined);
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }
}

/** The publisher's side: rings every doorbell seen lately; re-reads the list every LIST_MS in the background. */
export class Bells {
  private targets: DoorbellDoc[] = [];
  private listedAt = 0;
  private listing = false;
  private readonly sockets = new Map<'udp4' | 'udp6', dgram.Socket>();

  private constructor(private readonly collection: mongo.Collection<DoorbellDoc>) {}

  static open(conn: Connection, dbName: string): Bells {
    return new Bells(doorbells(conn, dbName));
  }

  /** Never waits and never fails: a ring is a hint. */
  ring(): void {
    if (Date.now() - this.listedAt >= LIST_MS) this.list();
    for (const t of this.targets) this.sender(t.host).send(RING, t.port, t.host, () => undefined);
  }

  private list(): void {
    if (this.listing) return;
    this.listing = true;
    this.collection
      .find({ seenAt: { $gt: new Date(Date.now() - STALE_MS) } })
      .toArray()
      .then((docs) => {
        this.targets = docs;
        this.listedAt = Date.now();
      })
      .catch(() => undefined) // the old list stays; the next ring tries again
      .finally(() => (this.listing = false));
  }

  private sender(host: string): dgram.Socket {
    const family = familyOf(host);
    let socket = this.sockets.get(family);
    if (!socket) {
      socket = dgram.createSocket(family);
      socket.on('error', () => undefined);
      socket.unref();
      this.sockets.set(family, socket);
    }
    return socket;
  }

  close(): void {
    for (const socket of this.sockets.values()) socket.close();
    this.sockets.clear();
  }
}
