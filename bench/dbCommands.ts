import net from 'node:net';
import { deserialize } from 'bson';

/**
 * A TCP proxy in front of the database that counts the commands the stack sends, by database
 * and command (`insert`, `find`, `findAndModify`, …), for `BENCH_DB_COUNT=1 npm run bench:load`.
 * It forwards every byte unchanged and reads only the client's OP_MSG body (section 0: the
 * command document), so what it counts is what the server had to run.
 */
export class CommandCounter {
  private readonly counts = new Map<string, number>();
  private readonly sockets = new Set<net.Socket>();
  private server: net.Server | null = null;

  constructor(private readonly target: () => number) {}

  async listen(): Promise<number> {
    const server = net.createServer((client) => this.pipe(client));
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as net.AddressInfo).port;
  }

  /** Counts so far, keyed `<database> <command>` (the database's prefix cut off by `strip`). */
  snapshot(strip = ''): Map<string, number> {
    return new Map([...this.counts].map(([k, v]) => [k.startsWith(strip) ? k.slice(strip.length) : k, v]));
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private pipe(client: net.Socket): void {
    const upstream = net.connect(this.target(), '127.0.0.1');
    this.sockets.add(client).add(upstream);
    let pending: Buffer = Buffer.alloc(0);
    client.on('data', (chunk: Buffer) => {
      upstream.write(chunk);
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      while (pending.length >= 16) {
        const length = pending.readInt32LE(0);
        if (pending.length < length) break;
        this.count(pending.subarray(0, length));
        pending = pending.subarray(length);
      }
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    const end = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  }

  private count(message: Buffer): void {
    const OP_MSG = 2013;
    if (message.readInt32LE(12) !== OP_MSG || message[20] !== 0) return;
    const bodyLength = message.readInt32LE(21);
    const body = deserialize(message.subarray(21, 21 + bodyLength), { promoteValues: false });
    const command = Object.keys(body)[0];
    if (command === undefined || command === 'hello' || command === 'isMaster' || command === 'ismaster') return;
    const key = `${String(body.$db)} ${command}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }
}

/** `after - before`, per key, largest first. */
export function difference(after: Map<string, number>, before: Map<string, number>): [string, number][] {
  return [...after]
    .map(([k, v]): [string, number] => [k, v - (before.get(k) ?? 0)])
    .filter(([, v]) => v > 0)
    .sort((a, b) => b[1] - a[1]);
}
