import { spawn } from 'node:child_process';
import path from 'node:path';

/** A process killed right after logging: what it logged before is on stdout (the delivery line is the simulated delivery). */
describe('process logger', () => {
  it('has written every line logged before the process is killed (kill -9)', async () => {
    const script = [
      `const { createLogger } = require(${JSON.stringify(path.join(__dirname, 'logger.ts'))});`,
      `const log = createLogger('killtest', 'info');`,
      `for (let i = 0; i < 200; i++) log.info({ delivery: 'simulated', i }, 'simulated EMAIL delivery');`,
      `process.kill(process.pid, 'SIGKILL');`,
    ].join('\n');
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    const signal = await new Promise<NodeJS.Signals | null>((resolve) => child.once('close', (_code, sig) => resolve(sig)));
    expect(signal).toBe('SIGKILL');
    const lines = out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { i: number; service: string });
    expect(lines.map((l) => l.i)).toEqual(Array.from({ length: 200 }, (_v, i) => i));
    expect(lines.every((l) => l.service === 'killtest')).toBe(true);
  });
});
