import { createHash } from 'node:crypto';

/**
 * The VM's speed right now: a fixed single-threaded workload (JSON and hashing, what the services
 * mostly do), best of five, run before the stack starts. Throughput moved by ±20 % from one
 * hour to the next on this shared VM with unchanged code; compare two runs' figures only when
 * their reference times agree.
 */
export function referenceWorkMs(): number {
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const started = performance.now();
    const hash = createHash('sha256');
    for (let i = 0; i < 60_000; i++) {
      const text = JSON.stringify({ id: i, patientId: `p${i % 97}`, start: new Date(1_800_000_000_000 + i * 60_000).toISOString(), tags: ['a', 'b', i] });
      hash.update((JSON.parse(text) as { patientId: string }).patientId);
    }
    hash.digest();
    best = Math.min(best, performance.now() - started);
  }
  return Math.round(best);
}

if (require.main === module) console.log(`reference workload: ${referenceWorkMs()} ms (lower is faster)`);
