import { Kind, parse, visit, visitWithTypeInfo, TypeInfo, type ConstDirectiveNode, type DocumentNode, type GraphQLSchema } from 'graphql';
import type { Identity } from '../platform/identity';

/**
 * Access scopes of live subscriptions: which subscribers are sure to get the same answer from the
 * subgraphs for the same query, so that the router may read an event once for all of them
 * (router/liveOperation.ts) and let the rules decide who sees it, not how often it is read.
 *
 * Every access rule of the subgraphs (subgraphs/<name>/access.ts and the filters their services
 * apply) reads the caller's role, patientId and doctorId; a few also read the user id: the accounts
 * service (a user sees their own record) and the notifications service (a notification addressed to
 * a user, a staff member's own notifications). So a scope is (role, patientId, doctorId), plus the
 * user id whenever the query touches a field one of those services resolves. A test
 * (liveScope.test.ts) fails when another service's rules start to read the user id.
 */
export const USER_SCOPED_SUBGRAPHS: readonly string[] = ['accounts', 'notifications'];

/**
 * The fields (`Type.field`) whose answer may depend on the caller's user id: every field a
 * user-scoped subgraph may resolve, read from the supergraph's join directives, entity keys
 * excepted (a key is known from the referencing object; no subgraph is asked for it).
 */
export function userScopedFields(supergraphSdl: string, subgraphs: readonly string[] = USER_SCOPED_SUBGRAPHS): ReadonlySet<string> {
  const doc = parse(supergraphSdl, { noLocation: true });
  const graphOf = new Map<string, string>(); // join__Graph enum value → subgraph name
  for (const def of doc.definitions) {
    if (def.kind !== Kind.ENUM_TYPE_DEFINITION || def.name.value !== 'join__Graph') continue;
    for (const value of def.values ?? []) {
      const name = argument(value.directives?.find((d) => d.name.value === 'join__graph'), 'name');
      if (name) graphOf.set(value.name.value, name);
    }
  }
  const scoped = new Set([...graphOf].filter(([, name]) => subgraphs.includes(name)).map(([value]) => value));
  const fields = new Set<string>();
  for (const def of doc.definitions) {
    if (def.kind !== Kind.OBJECT_TYPE_DEFINITION && def.kind !== Kind.INTERFACE_TYPE_DEFINITION) continue;
    const joins = (def.directives ?? []).filter((d) => d.name.value === 'join__type');
    const typeGraphs = joins.map((d) => argument(d, 'graph')).filter((g): g is string => !!g);
    const keys = new Set(joins.flatMap((d) => (argument(d, 'key') ?? '').split(/[\s{}]+/).filter(Boolean)));
    // A value type several subgraphs share (PageInfo): its fields come from the subgraph that
    // resolved the field returning it, which is judged on its own.
    if (keys.size === 0 && typeGraphs.length > 1 && !ROOT_TYPES.has(def.name.value)) continue;
    for (const field of def.fields ?? []) {
      if (keys.has(field.name.value)) continue;
      const fieldJoins = (field.directives ?? []).filter((d) => d.name.value === 'join__field' && argument(d, 'graph'));
      const graphs = fieldJoins.length
        ? fieldJoins.filter((d) => argument(d, 'external') !== 'true').map((d) => argument(d, 'graph')!)
        : typeGraphs;
      if (graphs.some((g) => scoped.has(g))) fields.add(`${def.name.value}.${field.name.value}`);
    }
  }
  return fields;
}

const ROOT_TYPES = new Set(['Query', 'Mutation', 'Subscription']);

function argument(directive: ConstDirectiveNode | undefined, name: string): string | undefined {
  const arg = directive?.arguments?.find((a) => a.name.value === name);
  if (!arg) return undefined;
  const v = arg.value;
  if (v.kind === Kind.STRING || v.kind === Kind.ENUM) return v.value;
  if (v.kind === Kind.BOOLEAN) return String(v.value);
  return undefined;
}

/** Whether a query (validated against `schema`) selects a field whose answer may depend on the user id. */
export function touchesUserScoped(schema: GraphQLSchema, query: DocumentNode, scopedFields: ReadonlySet<string>): boolean {
  const typeInfo = new TypeInfo(schema);
  let found = false;
  visit(
    query,
    visitWithTypeInfo(typeInfo, {
      Field(node) {
        const parent = typeInfo.getParentType();
        if (parent && scopedFields.has(`${parent.name}.${node.name.value}`)) found = true;
      },
    }),
  );
  return found;
}

/**
 * The access scope of a subscriber for a query: equal scopes get equal answers from every rule.
 * `identity` is what the router verified from the subscriber's token.
 */
export function accessScope(identity: Identity, userScoped: boolean): string {
  return JSON.stringify([identity.role ?? null, identity.patientId ?? null, identity.doctorId ?? null, identity.service ?? null, userScoped ? (identity.userId ?? null) : null]);
}
