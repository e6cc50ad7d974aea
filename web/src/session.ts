import { useSyncExternalStore } from 'react';
import type { Role } from './gql/graphql';

/** The signed-in user, as the app needs it to pick views (the graph enforces access anyway). */
export interface SessionUser {
  id: string;
  email: string;
  role: Role;
  /** PATIENT users: their record. */
  patientId: string | null;
  /** DOCTOR users: their profile and its time zone. */
  doctorId: string | null;
  doctorZone: string | null;
}

export interface Session {
  accessToken: string;
  refreshToken: string;
  user: SessionUser;
}

const KEY = 'healthsync.session';
const listeners = new Set<() => void>();
let cached: { raw: string | null; value: Session | null } = { raw: null, value: null };

/**
 * The session, kept for the tab's life only (sessionStorage: closing the tab signs out; another
 * tab signs in on its own). Every change is announced to `useSession`.
 */
export const sessionStore = {
  get(): Session | null {
    const raw = sessionStorage.getItem(KEY);
    if (raw !== cached.raw) cached = { raw, value: raw ? (JSON.parse(raw) as Session) : null };
    return cached.value;
  },
  set(value: Session | null): void {
    if (value) sessionStorage.setItem(KEY, JSON.stringify(value));
    else sessionStorage.removeItem(KEY);
    for (const listener of listeners) listener();
  },
  /** New tokens for the same user (a renewed session). */
  renew(tokens: { accessToken: string; refreshToken: string }): void {
    const current = this.get();
    if (current) this.set({ ...current, ...tokens });
  },
  subscribe(listener: () => void): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};

export function useSession(): Session | null {
  return useSyncExternalStore(sessionStore.subscribe, () => sessionStore.get());
}

/** The signed-in user; only inside the signed-in part of the app. */
export function useUser(): SessionUser {
  const session = useSession();
  if (!session) throw new Error('useUser outside a session');
  return session.user;
}
