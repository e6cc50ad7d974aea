import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { GraphQLError } from 'graphql';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { ErrorCode } from '../platform/errors';
import type { Identity } from '../platform/identity';

/**
 * Requests per minute per signed-in user, and per client address for anonymous callers (who can
 * only sign in; the address is the peer's, or a TRUST_PROXY proxy's X-Forwarded-For). Counted in
 * this router instance's memory: with N instances behind a balancer the effective limit is N times
 * higher; sign-in throttling (subgraphs/accounts/throttle.ts) is cluster-wide anyway.
 */
export class RequestRateLimiter {
  private readonly users: RateLimiterMemory;
  private readonly anonymous: RateLimiterMemory;

  constructor(perMinute: number, anonymousPerMinute: number) {
    this.users = new RateLimiterMemory({ points: perMinute, duration: 60, keyPrefix: 'user' });
    this.anonymous = new RateLimiterMemory({ points: anonymousPerMinute, duration: 60, keyPrefix: 'ip' });
  }

  async consume(identity: Identity, ip: string): Promise<void> {
    const [limiter, key] = identity.userId ? [this.users, identity.userId] : [this.anonymous, ip];
    try {
      await limiter.consume(key);
    } catch (res) {
      if (!(res instanceof RateLimiterRes)) throw res;
      const retryAfter = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
      throw new GraphQLError(`Too many requests; retry in ${retryAfter} second(s)`, {
        extensions: {
          code: ErrorCode.RATE_LIMITED,
          retryAfterSeconds: retryAfter,
          http: { status: 429, headers: new Map([['retry-after', String(retryAfter)]]) },
        },
      });
    }
  }
}

/**
 * A RATE_LIMITED answer of a subgraph (sign-in throttling) leaves the router as the router's own
 * limits do: HTTP 429 with `Retry-After` (the longest `retryAfterSeconds` among the errors).
 */
export function retryAfterPlugin<TContext extends BaseContext>(): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response, errors }) {
          let retryAfter = 0;
          for (const err of errors ?? []) {
            const seconds = err.extensions?.retryAfterSeconds;
            if (err.extensions?.code === ErrorCode.RATE_LIMITED && typeof seconds === 'number') retryAfter = Math.max(retryAfter, Math.ceil(seconds));
          }
          if (!retryAfter) return;
          response.http.status = 429;
          response.http.headers.set('retry-after', String(retryAfter));
        },
      };
    },
  };
}
