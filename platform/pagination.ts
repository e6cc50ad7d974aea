import type { QueryFilter, Model } from 'mongoose';
import { Types } from 'mongoose';
import { badInput } from './errors';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

export interface Edge<T> {
  cursor: string;
  node: T;
}
export interface Connection<T> {
  edges: Edge<T>[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

export interface CursorData {
  k: string;
  id: string;
}

export function encodeCursor(data: CursorData): string {
  return Buffer.from(JSON.stringify(data)).toString('base64url');
}

export function decodeCursor(cursor: string): CursorData {
  try {
    const data = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Partial<CursorData>;
    if (typeof data.k === 'string' && typeof data.id === 'string' && Types.ObjectId.isValid(data.id)) {
      return { k: data.k, id: data.id };
    }
  } catch {
    // fall through
  }
  throw badInput('The cursor in `after` is not one this API gave out', 'after');
}

export function pageSize(first: number | null | undefined): number {
  if (first === null || first === undefined) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) {
    throw badInput(`first must be between 1 and ${MAX_PAGE_SIZE}`, 'first');
  }
  return first;
}

/**
 * Keyset pagination ordered by a string sort key then _id (or by _id alone when `sortField` is
 * '_id'), ascending or descending. Stable under inserts and deletes, index-friendly (index
 * `{[sortField]: 1, _id: 1}`), and never reads more than one page plus one.
 */
export async function paginate<T extends { _id: Types.ObjectId }>(
  model: Model<T>,
  filter: QueryFilter<T>,
  sortField: keyof T & string,
  args: { first?: number | null; after?: string | null },
  direction: 1 | -1 = 1,
): Promise<Connection<T>> {
  const limit = pageSize(args.first);
  const cmp = direction === 1 ? '$gt' : '$lt';
  let query = filter;
  if (args.after) {
    const c = decodeCursor(args.after);
    const id = new Types.ObjectId(c.id);
    const after =
      sortField === '_id'
        ? { _id: { [cmp]: id } }
        : { $or: [{ [sortField]: { [cmp]: c.k } }, { [sortField]: c.k, _id: { [cmp]: id } }] };
    query = { $and: [filter, after] } as QueryFilter<T>;
  }
  const sort = sortField === '_id' ? { _id: direction } : { [sortField]: direction, _id: direction };
  const docs = await model.find(query).sort(sort).limit(limit + 1).lean<T[]>();
  const page = docs.slice(0, limit);
  const edges = page.map((node) => ({
    node,
    cursor: encodeCursor({ k: String(node[sortField] ?? ''), id: String(node._id) }),
  }));
  return {
    edges,
    pageInfo: { hasNextPage: docs.length > limit, endCursor: edges.length ? edges[edges.length - 1].cursor : null },
  };
}

/** Escapes user text for a literal, case-insensitive match inside a $regex. */
export function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
