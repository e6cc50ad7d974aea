import { createHash, createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';

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

/** Headers the router (and a service calling another) sets on every subgraph call. */
export const IDENTITY_HEADER = 'x-healthsync-identity';
export const SIGNATURE_HEADER = 'x-healthsync-signature';
export const REQUEST_ID_HEADER = 'x-request-id';

/**
 * A signature is valid this long after it was made. It travels router → subgraph (or service →
 * service) right before the call, and the router gives up on a call after SUBGRAPH_TIMEOUT_MS
 * (10 s by default) anyway.
 */
export const SIGNATURE_MAX_AGE_MS = 10_000;
/** How far a signer's clock may run ahead of the verifier's. */
export const SIGNATURE_CLOCK_SKEW_MS = 1_000;

/**
 * What is signed, besides the body: the identity, when (`iat`), for which subgraph (`aud`), and
 * the request id and a mutation's idempotency key that travel with it.
 */
interface SignedPayload extends Identity {
  iat: number;
  aud: string;
  rid?: string;
  /** The client's Idempotency-Key of the mutation this call belongs to (platform/idempotency.ts). */
  idk?: string;
}

/**
 * The HMAC key made from INTERNAL_SECRET, once per process or data source (not per request).
 */
export function signingKey(secret: string): KeyObject {
  return createSecretKey(Buffer.from(secret, 'utf8'));
}

/** SHA-256 of the exact request body bytes (a string body is sent as UTF-8). */
export function bodyDigest(body: string | Uint8Array): Buffer {
  return createHash('sha256').update(body).digest();
}

/**
 * The MAC over the identity header value and the body's digest. The header value is base64url
 * (never a '.') and the digest always 32 bytes, so the input is unambiguous.
 */
function mac(key: KeyObject, encoded: string, digest: Buffer): Buffer {
  return createHmac('sha256', key).update(encoded).update('.').update(digest).digest();
}

/** Whether a base64url MAC sent by a caller is `expected`, compared in constant time. */
export function macMatches(given: string, expected: Buffer): boolean {
  const buf = Buffer.from(given, 'base64url');
  return buf.length === expected.length && timingSafeEqual(buf, expected);
}

export interface SignOptions {
  /** The subgraph the call goes to (its name in platform/services.ts); only it accepts the call. */
  audience: string;
  requestId?: string;
  /** For a mutation sent with one: the client's Idempotency-Key. */
  idempotencyKey?: string;
  now?: number;
}

/** The identity header value: who, when, for which subgraph (signed by `signBody`). */
export function encodeIdentity(identity: Identity, opts: SignOptions): string {
  const payload: SignedPayload = {
    ...identity,
    iat: opts.now ?? Date.now(),
    aud: opts.audience,
    ...(opts.requestId ? { rid: opts.requestId } : {}),
    ...(opts.idempotencyKey ? { idk: opts.idempotencyKey } : {}),
  };
  return Buffer.from(JSON.stringify(payload)).toString('base64url');
}

/** The signature header value for an identity header value and the exact body that is sent. */
export function signBody(encoded: string, key: KeyObject, body: string | Uint8Array): string {
  return mac(key, encoded, bodyDigest(body)).toString('base64url');
}

/**
 * Both headers of a signed call to the subgraph `opts.audience` with exactly this body: a replay
 * of them fails for any other body, any other subgraph, and once SIGNATURE_MAX_AGE_MS passed.
 */
export function signIdentity(identity: Identity, key: KeyObject, body: string | Uint8Array, opts: SignOptions): Record<string, string> {
  const encoded = encodeIdentity(identity, opts);
  return { [IDENTITY_HEADER]: encoded, [SIGNATURE_HEADER]: signBody(encoded, key, body) };
}

/** What a subgraph received: the two headers and the SHA-256 of the body bytes as they arrived. */
export interface ReceivedCall {
  identity: string | undefined;
  signature: string | undefined;
  /** Undefined when no body was read (a GET, or not JSON): such a call is refused. */
  bodyDigest: Buffer | undefined;
}

export type VerifyResult = { ok: true; identity: Identity; requestId?: string; idempotencyKey?: string } | { ok: false; reason: string };

/**
 * Subgraph side: accepts only a call signed for this subgraph (`audience`), over this very body,
 * made at most SIGNATURE_MAX_AGE_MS ago (and not more than SIGNATURE_CLOCK_SKEW_MS ahead).
 */
export function verifyIdentity(call: ReceivedCall, key: KeyObject, audience: string, now = Date.now()): VerifyResult {
  const { identity: encoded, signature, bodyDigest: digest } = call;
  if (!encoded || !signature) return { ok: false, reason: 'missing router signature' };
  if (!digest) return { ok: false, reason: 'missing request body' };
  if (!macMatches(signature, mac(key, encoded, digest))) return { ok: false, reason: 'invalid router signature' };
  let payload: SignedPayload;
  try {
    payload = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8')) as SignedPayload;
  } catch {
    return { ok: false, reason: 'malformed identity' };
  }
  if (payload === null || typeof payload !== 'object') return { ok: false, reason: 'malformed identity' };
  if (payload.aud !== audience) return { ok: false, reason: 'signed for another service' };
  if (typeof payload.iat !== 'number' || !Number.isFinite(payload.iat)) return { ok: false, reason: 'malformed identity' };
  if (now - payload.iat > SIGNATURE_MAX_AGE_MS) return { ok: false, reason: 'expired router signature' };
  if (payload.iat - now > SIGNATURE_CLOCK_SKEW_MS) return { ok: false, reason: 'router signature from the future' };
  if (payload.role !== undefined && !(ROLES as readonly string[]).includes(payload.role)) {
    return { ok: false, reason: 'unknown role' };
  }
  const { iat: _iat, aud: _aud, rid, idk, ...identity } = payload;
  return { ok: true, identity, requestId: rid, ...(typeof idk === 'string' ? { idempotencyKey: idk } : {}) };
}
