import { GraphQLError } from 'graphql';
import { decodeJwt } from 'jose';
import type { Request } from 'express';
import { ErrorCode } from '../platform/errors';
import type { Identity } from '../platform/identity';
import { verifyAccessToken } from '../platform/jwt';

/**
 * Who is calling, from an Authorization value (HTTP header or graphql-ws `connectionParams`):
 * none → anonymous (subgraphs then allow only sign-in); a Bearer token must be a valid, unexpired
 * HS256 JWT from the accounts service, else UNAUTHENTICATED (401 over HTTP).
 */
export async function identityFromAuthorization(authorization: string | undefined, jwtSecret: string): Promise<Identity> {
  if (!authorization) return {};
  const match = /^Bearer\s+(\S+)$/i.exec(authorization);
  if (!match) throw unauthenticated('The Authorization header must be "Bearer <access token>"');
  const token = match[1];
  const cache = verifiedTokens(jwtSecret);
  const known = cache.get(token);
  if (known && Date.now() < known.expiresAt) return { ...known.identity };
  if (known) cache.delete(token);
  const check = await verifyAccessToken(token, jwtSecret);
  if (!check.ok) {
    throw unauthenticated(check.reason === 'expired' ? EXPIRED : 'The access token is not valid');
  }
  const exp = decodeJwt(token).exp;
  if (typeof exp === 'number') {
    if (cache.size >= MAX_VERIFIED_TOKENS) cache.delete(cache.keys().next().value!);
    cache.set(token, { identity: { ...check.identity }, expiresAt: exp * 1000 });
  }
  return check.identity;
}

const EXPIRED = 'Your session has expired; renew it with refreshSession or sign in again';

/**
 * Tokens already verified, per JWT secret, until they expire: a client sends the same token with
 * every request, and a token that was valid stays valid until its `exp` (access tokens are not
 * revoked one by one; signing out ends the refresh session). Saves the HMAC and the key import of
 * every request but the first. At most MAX_VERIFIED_TOKENS, the oldest dropped first; refused
 * tokens are not kept.
 */
const MAX_VERIFIED_TOKENS = 10_000;
const verified = new Map<string, Map<string, { identity: Identity; expiresAt: number }>>();
function verifiedTokens(secret: string): Map<string, { identity: Identity; expiresAt: number }> {
  let cache = verified.get(secret);
  if (!cache) verified.set(secret, (cache = new Map()));
  return cache;
}

export function identityFromRequest(req: Request, jwtSecret: string): Promise<Identity> {
  return identityFromAuthorization(req.header('authorization'), jwtSecret);
}

function unauthenticated(message: string): GraphQLError {
  return new GraphQLError(message, {
    extensions: { code: ErrorCode.UNAUTHENTICATED, http: { status: 401, headers: new Map([['www-authenticate', 'Bearer']]) } },
  });
}

/** When the (already verified) bearer token in an Authorization value expires; null if it has no `exp`. */
export function bearerExpiry(authorization: string): Date | null {
  const token = /^Bearer\s+(\S+)$/i.exec(authorization)?.[1];
  const exp = token ? decodeJwt(token).exp : undefined;
  return typeof exp === 'number' ? new Date(exp * 1000) : null;
}
