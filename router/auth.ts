import { GraphQLError } from 'graphql';
import type { Request } from 'express';
import { ErrorCode } from '../platform/errors';
import type { Identity } from '../platform/identity';
import { verifyAccessToken } from '../platform/jwt';

/**
 * Who is calling: no Authorization header → anonymous (subgraphs then allow only sign-in);
 * a Bearer token must be a valid, unexpired HS256 JWT from the accounts service, else 401.
 */
export async function identityFromRequest(req: Request, jwtSecret: string): Promise<Identity> {
  const header = req.header('authorization');
  if (!header) return {};
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) throw unauthenticated('The Authorization header must be "Bearer <access token>"');
  const check = await verifyAccessToken(match[1], jwtSecret);
  if (!check.ok) {
    throw unauthenticated(check.reason === 'expired' ? 'Your session has expired; renew it with refreshSession or sign in again' : 'The access token is not valid');
  }
  return check.identity;
}

function unauthenticated(message: string): GraphQLError {
  return new GraphQLError(message, {
    extensions: { code: ErrorCode.UNAUTHENTICATED, http: { status: 401, headers: new Map([['www-authenticate', 'Bearer']]) } },
  });
}
