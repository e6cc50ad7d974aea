import { spawnSync } from 'node:child_process';
import path from 'node:path';

/** In a process of its own: the handler ends it, which a test inside jest's process could not show. */
it('logs a rejection nobody handled as one fatal JSON line and exits with 1', () => {
  const code = [
    `const { exitOnUnhandledRejection } = require(${JSON.stringify(path.join(__dirname, 'processExit.ts'))});`,
    `const { createLogger } = require(${JSON.stringify(path.join(__dirname, 'logger.ts'))});`,
    `exitOnUnhandledRejection(createLogger('probe', 'info'));`,
    `Promise.reject(new Error('nobody caught me'));`,
    // Would keep the process alive for 20 s if the handler did not end it.
    `setTimeout(() => undefined, 20000);`,
  ].join('\n');
  const run = spawnSync(process.execPath, ['--import', 'tsx', '-e', code], { encoding: 'utf8', timeout: 60_000 });
  expect(run.status).toBe(1);
  const lines = run.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(lines).toContainEqual(
    expect.objectContaining({ level: 60, service: 'probe', msg: 'unhandled rejection; exiting for a clean restart', err: expect.objectContaining({ name: 'Error', message: 'nobody caught me' }) }),
  );
}, 90_000);
