import { urlHost } from '../platform/services';

/**
 * The container health check (Dockerfile HEALTHCHECK, docker-compose `healthcheck`):
 * `node dist/scripts/healthcheck.js [/path]` asks this container's process at HOST:PORT for
 * `/health` (or the path given, e.g. `/ready`) and exits 0 on HTTP 2xx, 1 otherwise (refused,
 * 503, or no answer within 3 s). No curl or wget in the slim image: Node's fetch does it.
 */
export async function checkHealth(env: NodeJS.ProcessEnv, path = '/health', timeoutMs = 3000): Promise<{ ok: boolean; detail: string }> {
  const port = env.PORT ?? '4000';
  const url = `http://${urlHost(env.HOST ?? '127.0.0.1')}:${port}${path.startsWith('/') ? path : `/${path}`}`;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return { ok: res.ok, detail: `${url}: HTTP ${res.status}` };
  } catch (err) {
    return { ok: false, detail: `${url}: ${(err as Error).message}` };
  }
}

if (require.main === module) {
  void checkHealth(process.env, process.argv[2]).then(({ ok, detail }) => {
    if (!ok) console.error(`unhealthy: ${detail}`);
    process.exit(ok ? 0 : 1);
  });
}
