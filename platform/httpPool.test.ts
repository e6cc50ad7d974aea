import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpPools } from './httpPool';

/** A server whose behaviour each test sets; counts the requests that reached it. */
let behave: (req: http.IncomingMessage, body: string, res: http.ServerResponse) => void = () => undefined;
let hits = 0;
const server = http.createServer((req, res) => {
  hits++;
  let body = '';
  req.on('data', (c: Buffer) => (body += c.toString()));
  req.on('end', () => behave(req, body, res));
});
let url = '';
const pools = new HttpPools(4);

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql?x=1`;
});
afterAll(async () => {
  await pools.close();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
beforeEach(() => {
  hits = 0;
});

describe('HttpPools', () => {
  it('posts the body and headers to the path and query, and reads the answer as fetch would', async () => {
    behave = (req, body, res) => {
      res.setHeader('content-type', 'application/json; charset=utf-8');
      res.statusCode = 201;
      res.end(JSON.stringify({ path: req.url, method: req.method, header: req.headers['x-test'], body }));
    };
    const answer = await pools.post(url, { headers: { 'content-type': 'application/json', 'x-test': 'yes' }, body: '{"a":1}', timeoutMs: 5_000 });
    expect(answer.ok).toBe(true);
    expect(answer.status).toBe(201);
    expect(answer.url).toBe(url);
    expect(answer.headers.get('Content-Type')).toBe('application/json; charset=utf-8');
    expect(answer.headers.get('x-missing')).toBeNull();
    expect(await answer.json()).toEqual({ path: '/graphql?x=1', method: 'POST', header: 'yes', body: '{"a":1}' });
    // The body can be read again (the gateway reads an error answer's text after checking `ok`).
    expect(JSON.parse(await answer.text())).toMatchObject({ method: 'POST' });
  });

  it('says not ok for an error status and keeps its body', async () => {
    behave = (_req, _body, res) => {
      res.statusCode = 503;
      res.end('{"errors":[{"message":"not ready"}]}');
    };
    const answer = await pools.post(url, { headers: {}, body: '{}', timeoutMs: 5_000 });
    expect(answer.ok).toBe(false);
    expect(answer.status).toBe(503);
    expect(await answer.json()).toEqual({ errors: [{ message: 'not ready' }] });
  });

  it('gives up on a server that does not answer within the timeout', async () => {
    behave = () => undefined; // never answers
    await expect(pools.post(url, { headers: {}, body: '{}', timeoutMs: 300 })).rejects.toThrow(/timeout/i);
    expect(hits).toBe(1);
  });

  it('sends a POST once, even when the connection breaks before the answer', async () => {
    behave = (req) => req.socket.destroy();
    await expect(pools.post(url, { headers: {}, body: '{}', timeoutMs: 5_000 })).rejects.toThrow();
    expect(hits).toBe(1);
  });

  it('keeps connections open between calls, at most the pool size at once', async () => {
    const sockets = new Set<unknown>();
    behave = (req, _body, res) => {
      sockets.add(req.socket);
      setImmediate(() => res.end('{}'));
    };
    await Promise.all(Array.from({ length: 20 }, () => pools.post(url, { headers: {}, body: '{}', timeoutMs: 5_000 }).then((a) => a.text())));
    await Promise.all(Array.from({ length: 20 }, () => pools.post(url, { headers: {}, body: '{}', timeoutMs: 5_000 }).then((a) => a.text())));
    expect(hits).toBe(40);
    expect(sockets.size).toBeGreaterThanOrEqual(1);
    expect(sockets.size).toBeLessThanOrEqual(4);
  });
});
