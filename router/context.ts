import type { BaseContext } from '../platform/context';

/** Per-request context of the router: who is asking and the request id sent to every subgraph. */
export type RouterContext = BaseContext;
