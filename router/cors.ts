import type express from 'express';
import { ErrorCode, ErrorReason } from '../platform/errors';
import { REQUEST_ID_HEADER } from '../platform/identity';

/** Request headers a browser app on an allowed origin may send (asked for in preflights). */
export const CORS_ALLOWED_HEADERS = ['authorization', 'content-type', 'idempotency-key', 'apollo-require-preflight', 'x-apollo-operation-name', REQUEST_ID_HEADER];
/** Response headers such an app may read besides the simple ones. */
export const CORS_EXPOSED_HEADERS = [REQUEST_ID_HEADER, 'retry-after', 'idempotent-replayed'];
const METHODS = 'GET, POST, OPTIONS';
/** How long a browser may reuse a preflight's answer (Chromium caps it at 2 h). */
const MAX_AGE_SECONDS = 600;

/**
 * CORS for `/graphql`: browser apps on the exact origins in CORS_ORIGINS may call the graph; no
 * origin is allowed by default. An allowed origin gets `Access-Control-Allow-Origin` (its own
 * origin, never `*`) on every answer, and its preflight (`OPTIONS` with
 * `Access-Control-Request-Method`) 204 with the methods and headers above. Any other origin gets no
 * CORS header, and its preflight 403 `FORBIDDEN` (`reason: CORS_ORIGIN_NOT_ALLOWED`), so the browser
 * sends nothing. No credentials: the access token travels in the Authorization header, so no
 * cookie is needed (the router's device cookie stays first-party; cross-origin sign-ins are
 * throttled by address instead). Same-origin calls (the admin app) need none of this.
 */
export function corsMiddleware(origins: readonly string[]): express.RequestHandler {
  const allowed = new Set(origins);
  return (req, res, next) => {
    if (allowed.size) res.vary('Origin');
    const origin = req.header('origin');
    const ok = origin !== undefined && allowed.has(origin);
    if (ok) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Expose-Headers', CORS_EXPOSED_HEADERS.join(', '));
    }
    if (req.method !== 'OPTIONS') return next();
    res.setHeader('Allow', METHODS);
    if (!req.header('access-control-request-method') || origin === undefined) {
      res.status(204).end();
      return;
    }
    if (!ok) {
      res.status(403).json({
        errors: [
          {
            message: `Cross-origin requests from ${origin.slice(0, 200)} are not allowed: the router's CORS_ORIGINS does not list it`,
            extensions: { code: ErrorCode.FORBIDDEN, reason: ErrorReason.CORS_ORIGIN_NOT_ALLOWED },
          },
        ],
      });
      return;
    }
    res.setHeader('Access-Control-Allow-Methods', METHODS);
    res.setHeader('Access-Control-Allow-Headers', CORS_ALLOWED_HEADERS.join(', '));
    res.setHeader('Access-Control-Max-Age', String(MAX_AGE_SECONDS));
    res.status(204).end();
  };
}
