import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Recorded {
  headers: Record<string, string>;
  body: string;
}

export interface RecordingProxy {
  url: string;
  /** Every call that passed, in arrival order, with its headers and exact body bytes. */
  calls: Recorded[];
  close(): Promise<void>;
}

/** Forwards every call to `target` unchanged and keeps its headers and exact body bytes. */
export async function recordingProxy(target: string): Promise<RecordingProxy> {
  const calls: Recorded[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = Object.fromEntries(
        Object.entries(req.headers).filter((e): e is [string, string] => typeof e[1] === 'string' && !['content-length', 'host', 'connection'].includes(e[0])),
      );
      calls.push({ headers, body });
      void fetch(target, { method: 'POST', headers, body }).then(async (answer) => {
        res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
        res.end(await answer.text());
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
    calls,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
