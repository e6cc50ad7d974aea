import type express from 'express';
import { BREAK, parse, visit, type DocumentNode } from 'graphql';
import { ErrorCode, ErrorReason } from '../platform/errors';

const MENTION = /@(defer|stream)\b/;

/** True when the document applies @defer or @stream anywhere. */
export function usesIncrementalDelivery(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    Directive(node) {
      if (node.name.value === 'defer' || node.name.value === 'stream') {
        found = true;
        return BREAK;
      }
      return undefined;
    },
  });
  return found;
}

/**
 * `@defer` and `@stream` are not supported, and a request using them is HTTP 400 `BAD_USER_INPUT`
 * with `extensions.reason: INCREMENTAL_DELIVERY_NOT_SUPPORTED` instead of "Unknown directive":
 * - @apollo/gateway (2.14) cannot execute a plan with deferred parts: its executeQueryPlan asserts
 *   "@defer support is not available in the gateway" on a Defer node, its API schema has no @defer,
 *   and Apollo does not plan to add it (apollographql/federation#1204; @defer is a GraphOS Router
 *   feature);
 * - Apollo Server 5 streams incremental results only with graphql@17.0.0-alpha.9, and the Apollo
 *   packages here need graphql 16.
 * Only documents that mention either directive are parsed here; others cost a regular expression.
 */
export function incrementalDeliveryCheck(maxTokens: number): express.RequestHandler {
  return (req, res, next) => {
    const payload: unknown = req.method === 'GET' ? req.query : req.body;
    const entries: unknown[] = Array.isArray(payload) ? payload : [payload];
    for (const entry of entries) {
      const query: unknown = typeof entry === 'object' && entry !== null ? (entry as { query?: unknown }).query : undefined;
      if (typeof query !== 'string' || !MENTION.test(query)) continue;
      let document: DocumentNode;
      try {
        document = parse(query, { maxTokens });
      } catch {
        continue; // Apollo Server answers the syntax error
      }
      if (!usesIncrementalDelivery(document)) continue;
      res.status(400).json({
        errors: [
          {
            message:
              '@defer and @stream are not supported by this router (Apollo Gateway cannot execute deferred parts of a query plan): remove the directive, and the fields arrive in the one response',
            extensions: { code: ErrorCode.BAD_USER_INPUT, reason: ErrorReason.INCREMENTAL_DELIVERY_NOT_SUPPORTED },
          },
        ],
      });
      return;
    }
    next();
  };
}
