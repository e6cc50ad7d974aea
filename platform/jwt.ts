import { SignJWT, jwtVerify, errors } from 'jose';
import { ROLES, type Identity, type Role } from './identity';

/**
 * Access tokens: HS256 JWTs issued by the accounts service and verified by the router, both with
 * JWT_SECRET. Only HS256 is accepted (no `alg: none`, no algorithm confusion), and only with an
 * expiry (`exp`).
 */
const ISSUER = 'healthsync';
const AUDIENCE = 'healthsync-graph';
const ALG = 'HS256';

interface Claims {
  role: Role;
  pid?: string;
  did?: string;
}

const key = (secret: string) => new TextEncoder().encode(secret);

export async function signAccessToken(identity: Required<Pick<Identity, 'userId' | 'role'>> & Identity, secret: string, ttlSeconds: number, now = Date.now()): Promise<{ token: string; expiresAt: Date }> {
  const iat = Math.floor(now / 1000);
  const claims: Claims = { role: identity.role };
  if (identity.patientId) claims.pid = identity.patientId;
  if (identity.doctorId) claims.did = identity.doctorId;
  const token = await new SignJWT({ ...claims })
    .setProtectedHeader({ alg: ALG, typ: 'JWT' })
    .setSubject(identity.userId)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttlSeconds)
    .sign(key(secret));
  return { token, expiresAt: new Date((iat + ttlSeconds) * 1000) };
}

export type TokenCheck = { ok: true; identity: Identity } | { ok: false; reason: 'expired' | 'invalid' };

export async function verifyAccessToken(token: string, secret: string): Promise<TokenCheck> {
  try {
    // A token without `exp` would never expire: refused, like any token not issued by signAccessToken.
    const { payload } = await jwtVerify(token, key(secret), { algorithms: [ALG], issuer: ISSUER, audience: AUDIENCE, requiredClaims: ['exp', 'sub'] });
    const role = payload.role;
    if (typeof payload.sub !== 'string' || typeof role !== 'string' || !(ROLES as readonly string[]).includes(role)) {
      return { ok: false, reason: 'invalid' };
    }
    const identity: Identity = { userId: payload.sub, role: role as Role };
    if (typeof payload.pid === 'string') identity.patientId = payload.pid;
    if (typeof payload.did === 'string') identity.doctorId = payload.did;
    return { ok: true, identity };
  } catch (err) {
    return { ok: false, reason: err instanceof errors.JWTExpired ? 'expired' : 'invalid' };
  }
}
