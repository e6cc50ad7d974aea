import { restartDelayMs, Supervised } from './supervise';
import { waitFor } from '../test/helpers';

const node = process.execPath;
const said: string[] = [];
const say = (line: string) => said.push(line);

describe('npm start supervision (scripts/supervise.ts)', () => {
  beforeEach(() => (said.length = 0));

  it('starts a killed child again and says so', async () => {
    const child = new Supervised({ name: 'patients', command: node, args: ['-e', 'setInterval(() => {}, 1000)'], spawn: { stdio: 'ignore' }, delayMs: () => 10, say }).start();
    try {
      const first = await waitFor(async () => child.pid);
      process.kill(first, 'SIGKILL');
      const second = await waitFor(async () => child.pid !== first && child.pid, 20_000);
      expect(second).not.toBe(first);
      expect(child.restarts).toBe(1);
      expect(said[0]).toMatch(/^patients exited unexpectedly \(SIGKILL\); restarting it in 0\.01 s/);
      expect(said[1]).toMatch(/^patients restarted \(pid \d+\)/);
    } finally {
      await child.stop();
    }
    expect(child.pid).toBeUndefined();
  });

  it('waits longer after each quick exit', async () => {
    const child = new Supervised({ name: 'doctors', command: node, args: ['-e', 'process.exit(3)'], spawn: { stdio: 'ignore' }, delayMs: (n) => 10 * 2 ** n, say }).start();
    try {
      await waitFor(async () => child.restarts >= 3, 30_000);
    } finally {
      await child.stop();
    }
    const pauses = said.filter((l) => l.includes('exited')).slice(0, 3).map((l) => /in ([\d.]+) s/.exec(l)![1]);
    expect(pauses).toEqual(['0.01', '0.02', '0.04']);
    expect(said[0]).toContain('(code 3)');
  });

  it('does not restart a child it was asked to stop', async () => {
    const child = new Supervised({ name: 'router', command: node, args: ['-e', 'setInterval(() => {}, 1000)'], spawn: { stdio: 'ignore' }, delayMs: () => 10, say }).start();
    await waitFor(async () => child.pid);
    await child.stop();
    expect(child.pid).toBeUndefined();
    expect(child.restarts).toBe(0);
    expect(said).toEqual([]);
  });

  it('caps the pause at 30 s', () => {
    expect([0, 1, 2, 5, 10].map(restartDelayMs)).toEqual([1_000, 2_000, 4_000, 30_000, 30_000]);
  });
});
