import { useCallback, useRef, useState } from 'react';
import { outcomeUnknown, problemOf, type Problem } from '../errors';

/** A new Idempotency-Key (also where crypto.randomUUID is missing: a page not on HTTPS or localhost). */
export function newIdempotencyKey(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}

export interface Action<A extends unknown[]> {
  run: (...args: A) => Promise<boolean>;
  busy: boolean;
  problem: Problem | null;
  clear: () => void;
}

/**
 * One user action that sends a mutation: `busy` while it runs (disable the button), `problem` when
 * it failed (written for people, instants in `zone`). `send` gets an Idempotency-Key for the action:
 * pressing the button again after an answer that left the outcome open (network, server busy)
 * sends the same key for the same arguments, so a booking or a dispensing that did go through is
 * not done twice; any other answer ends the action and the next press gets a new key.
 */
export function useAction<A extends unknown[]>(send: (key: string, ...args: A) => Promise<unknown>, zone?: string): Action<A> {
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const pending = useRef<{ id: string; key: string } | null>(null);
  const run = useCallback(
    async (...args: A): Promise<boolean> => {
      const id = JSON.stringify(args);
      if (!pending.current || pending.current.id !== id) pending.current = { id, key: newIdempotencyKey() };
      const mine = pending.current;
      setBusy(true);
      setProblem(null);
      try {
        await send(mine.key, ...args);
        if (pending.current === mine) pending.current = null;
        return true;
      } catch (error) {
        const p = problemOf(error, zone);
        if (pending.current === mine && !outcomeUnknown(p)) pending.current = null;
        setProblem(p);
        return false;
      } finally {
        setBusy(false);
      }
    },
    [send, zone],
  );
  return { run, busy, problem, clear: useCallback(() => setProblem(null), []) };
}
