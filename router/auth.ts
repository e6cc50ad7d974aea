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
  const check = await verifyAccessToken(match[1], jwtSecret);
  if (!check.ok) {
    throw unauthenticated(check.reason === 'expired' ? 'Your session has expired; renew it with refreshSession or sign in again' : 'The access token is not valid');
  }
  return check.identity;
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
