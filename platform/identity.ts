import { createHmac, timingSafeEqual } from 'node:crypto';

/** Roles of HealthSync users, highest privilege first. */
export const ROLES = ['SUPER_ADMIN', 'ADMIN', 'DOCTOR', 'NURSE', 'PHARMACIST', 'PATIENT'] as const;
export type Role = (typeof ROLES)[number];

/**
 * Who is asking. Anonymous callers have no userId and role. A HealthSync service calling another
 * one (platform/serviceClient.ts) is named in `service`; only services set it, never the router.
 */
export interface Identity {
  userId?: string;
  role?: Role;
  patientId?: string;
  doctorId?: string;
  service?: string;
}

/** Headers the router sets on every subgraph call. */
export const IDENTITY_HEADER = 'x-healthsync-identity';
export const SIGNATURE_HEADER = 'x-healthsync-signature';
export const REQUEST_ID_HEADER = 'x-request-id';

/** A signed identity is valid this long; it only travels router → subgraph, so a minute is plenty. */
const MAX_AGE_MS = 60_000;

interface SignedPayload extends Identity {
  iat: number;
  rid?: string;
  /** The client's Idempotency-Key of the mutation this call belongs to (platform/idempotency.ts). */
  idk?: string;
}

function hmac(secret: string, payload: string): Buffer {
  return createHmac('sha256', secret).update(payload).digest();
}

/**
 * Router side: the two header values that carry an identity to a subgraph, with the request id
 * and, for a mutation sent with one, the client's idempotency key.
 */
export function signIdentity(
  identity: Identity,
  secret: string,
  requestId?: string,
  now = Date.now(),
  idempotencyKey?: string,
): Record<string, string> {
  const payload: SignedPayload = { ...identity, iat: now, ...(requestId ? { rid: requestId } : {}), ...(idempotencyKey ? { idk: idempotencyKey } : {}) };
  const encoded = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return { [IDENTITY_HEADER]: encoded, [SIGNATURE_HEADER]: hmac(secret, encoded).toString('base64url') };
}

export type VerifyResult = { ok: true; identity: Identity; requestId?: string; idempotencyKey?: string } | { ok: false; reason: string };

/** Subgraph side: accepts only an identity the router signed within the last minute. */
export function verifyIdentity(
  encoded: string | undefined,
  signature: string | undefined,
  secret: string,
  now = Date.now(),
): VerifyResult {
  if (!encoded || !signature) return { ok: false, reason: 'missing router signature' };
  const expected = hmac(secret, encoded);
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'invalid router signature' };
  }
  let payload: SignedPayload;
  try {
    payload = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8')) as SignedPayload;
  } catch {
    return { ok: false, reason: 'malformed identity' };
  }
  if (typeof payload.iat !== 'number' || Math.abs(now - payload.iat) > MAX_AGE_MS) {
    return { ok: false, reason: 'expired router signature' };
  }
  if (payload.role !== undefined && !(ROLES as readonly string[]).includes(payload.role)) {
    return { ok: false, reason: 'unknown role' };
  }
  const { iat: _iat, rid, idk, ...identity } = payload;
  return { ok: true, identity, requestId: rid, ...(typeof idk === 'string' ? { idempotencyKey: idk } : {}) };
}
