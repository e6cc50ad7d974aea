import {
  getNamedType,
  GraphQLError,
  isCompositeType,
  isInterfaceType,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  parse,
  valueFromASTUntyped,
  type DirectiveNode,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLOutputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import type { ApolloServerPlugin } from '@apollo/server';
import { ErrorCode } from '../platform/errors';

/**
 * The router's query cost limit: an estimate of how many objects an operation makes the graph
 * resolve, computed before anything is planned or fetched, refused above MAX_QUERY_COST.
 *
 * The model is the one of the GraphQL cost spec (IBM; Apollo's and Hive's "demand control"): every
 * object (composite type) costs 1, a scalar or enum costs 0, a root mutation field costs 10, and a
 * list multiplies what each of its elements costs by its size. The size of a list comes from the
 * `@listSize` directive on the field in the subgraph's SDL (composed into the supergraph):
 * `slicingArguments: ["first"]` takes the value the operation passes (literal or variable, else the
 * argument's default), applied to the list `sizedFields` names (a connection's `edges`);
 * `assumedSize: n` is a typical size of a list that has no page size; other lists count
 * DEFAULT_LIST_SIZE. So a query's cost grows with what it really asks for: `doctors(first: 50)`
 * costs 50 doctors, and each nested list multiplies, which is what makes nested lists abusive.
 *
 * graphql-armor's costLimit, used before, charged per selected field with a factor of 1.5 per
 * level, multiplied only by literal `first` arguments (a variable counted 1) and counted an
 * unpaginated list as one object: it refused the 50-doctor day view (≈ 2,000 objects) and let
 * `doctors(first: $n)` with n = 100 through as if it asked for one doctor.
 */

/** `@listSize` of one field (cost spec v0.1). */
export interface ListSize {
  assumedSize?: number;
  slicingArguments?: string[];
  sizedFields?: string[];
}

/** `@listSize` per field, keyed `Type.field`. */
export type ListSizes = ReadonlyMap<string, ListSize>;

/** Size of a list nothing tells more about (Apollo Router's `list_size` default is of this order). */
export const DEFAULT_LIST_SIZE = 10;
/** What a root mutation field costs before its selection (as in Apollo's demand control). */
export const MUTATION_COST = 10;

const LIST_SIZE_NAMES = new Set(['listSize', 'cost__listSize']);

function listSizeOf(directive: DirectiveNode): ListSize {
  const size: ListSize = {};
  for (const arg of directive.arguments ?? []) {
    const value = valueFromASTUntyped(arg.value);
    if (arg.name.value === 'assumedSize' && typeof value === 'number') size.assumedSize = value;
    if (arg.name.value === 'slicingArguments' && Array.isArray(value)) size.slicingArguments = value.map(String);
    if (arg.name.value === 'sizedFields' && Array.isArray(value)) size.sizedFields = value.map(String);
  }
  return size;
}

/** Reads every `@listSize` of the supergraph SDL (the API schema the gateway serves drops them). */
export function listSizesOf(supergraphSdl: string): ListSizes {
  const sizes = new Map<string, ListSize>();
  for (const def of parse(supergraphSdl).definitions) {
    if (def.kind !== Kind.OBJECT_TYPE_DEFINITION && def.kind !== Kind.INTERFACE_TYPE_DEFINITION && def.kind !== Kind.OBJECT_TYPE_EXTENSION) continue;
    for (const field of def.fields ?? []) {
      const directive = field.directives?.find((d) => LIST_SIZE_NAMES.has(d.name.value));
      if (directive) sizes.set(`${def.name.value}.${field.name.value}`, listSizeOf(directive));
    }
  }
  return sizes;
}

export interface CostInput {
  schema: GraphQLSchema;
  document: DocumentNode;
  operation: OperationDefinitionNode;
  variables: Readonly<Record<string, unknown>>;
  listSizes: ListSizes;
}

/** Number of list levels of a field's type (`[[T]]` → 2). */
function listDepth(type: GraphQLOutputType): number {
  let depth = 0;
  for (let t: GraphQLOutputType = type; ; ) {
    if (isNonNullType(t)) t = t.ofType;
    else if (isListType(t)) {
      depth++;
      t = t.ofType as GraphQLOutputType;
    } else return depth;
  }
}

/** Estimated objects an operation resolves (see the top of this file). */
export function operationCost({ schema, document, operation, variables, listSizes }: CostInput): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const def of document.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
  const variableDefaults = new Map<string, ValueNode>();
  for (const v of operation.variableDefinitions ?? []) if (v.defaultValue) variableDefaults.set(v.variable.name.value, v.defaultValue);

  /** The value of an integer argument as the operation passes it; undefined when it passes none. */
  const intArgument = (node: FieldNode, field: GraphQLField<unknown, unknown>, name: string): number | undefined => {
    const arg = node.arguments?.find((a) => a.name.value === name);
    let value: unknown;
    if (arg?.value.kind === Kind.VARIABLE) {
      const variable = arg.value.name.value;
      value = variables[variable] ?? (variableDefaults.has(variable) ? valueFromASTUntyped(variableDefaults.get(variable)!) : undefined);
    } else if (arg) value = valueFromASTUntyped(arg.value);
    value ??= field.args.find((a) => a.name === name)?.defaultValue;
    return typeof value === 'number' && Number.isFinite(value) ? Math.max(0, value) : undefined;
  };

  /** `sized`: sizes the enclosing field's `@listSize(sizedFields:)` gives lists of this object. */
  const selectionCost = (set: SelectionSetNode, parent: GraphQLCompositeType, sized: ReadonlyMap<string, number>, path: readonly string[]): number => {
    let total = 0;
    for (const sel of set.selections) {
      if (sel.kind === Kind.INLINE_FRAGMENT || sel.kind === Kind.FRAGMENT_SPREAD) {
        const fragment = sel.kind === Kind.INLINE_FRAGMENT ? sel : fragments.get(sel.name.value);
        // Cycles are refused by graphql's own validation before this runs; guard anyway.
        if (!fragment || (sel.kind === Kind.FRAGMENT_SPREAD && path.includes(sel.name.value))) continue;
        const onType = fragment.typeCondition ? schema.getType(fragment.typeCondition.name.value) : parent;
        if (onType && isCompositeType(onType)) {
          total += selectionCost(fragment.selectionSet, onType, sized, sel.kind === Kind.FRAGMENT_SPREAD ? [...path, sel.name.value] : path);
        }
        continue;
      }
      // __typename costs nothing; introspection is not this limit's business (off in production).
      if (sel.name.value.startsWith('__')) continue;
      if (!isObjectType(parent) && !isInterfaceType(parent)) continue;
      const field = parent.getFields()[sel.name.value];
      if (!field) continue;
      const named = getNamedType(field.type);
      const size = listSizes.get(`${parent.name}.${field.name}`);
      const slice = size?.slicingArguments?.length
        ? Math.max(...size.slicingArguments.map((a) => intArgument(sel, field, a) ?? size.assumedSize ?? DEFAULT_LIST_SIZE))
        : undefined;
      const childSized = new Map<string, number>();
      if (slice !== undefined) for (const f of size?.sizedFields ?? []) childSized.set(f, slice);
      let cost = isCompositeType(named) ? 1 : 0;
      if (operation.operation === 'mutation' && path.length === 0 && parent === schema.getMutationType()) cost += MUTATION_COST;
      if (sel.selectionSet && isCompositeType(named)) cost += selectionCost(sel.selectionSet, named, childSized, []);
      const levels = listDepth(field.type);
      if (levels > 0) {
        const elements = sized.get(field.name) ?? (size?.sizedFields?.length ? undefined : slice) ?? size?.assumedSize ?? DEFAULT_LIST_SIZE;
        cost *= elements ** levels;
      }
      total += cost;
    }
    return total;
  };

  const root = schema.getRootType(operation.operation);
  return root ? selectionCost(operation.selectionSet, root, new Map(), []) : 0;
}

/** The error of an operation over the limit: refused before anything runs, HTTP 400. */
export function costLimitError(cost: number, maxCost: number): GraphQLError {
  return new GraphQLError(`Query Cost limit of ${maxCost} exceeded, found ${cost}. Ask for fewer items per list (first:) or fewer nested lists.`, {
    extensions: { code: ErrorCode.GRAPHQL_VALIDATION_FAILED, cost, maxCost, http: { status: 400 } },
  });
}

/** The limit as a check: an error when the operation's estimated cost is above `maxCost`. */
export function checkCost(input: CostInput, maxCost: number): GraphQLError | null {
  const cost = operationCost(input);
  return cost > maxCost ? costLimitError(cost, maxCost) : null;
}

/**
 * Apollo Server plugin: checks each operation once it is parsed, validated and resolved (so the
 * variables are known), before the gateway plans or fetches anything.
 */
export function costLimitPlugin<TContext extends object>(listSizes: ListSizes, maxCost: number): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, operation, request }) {
          if (!operation) return;
          const error = checkCost({ schema, document, operation, variables: request.variables ?? {}, listSizes }, maxCost);
          if (error) throw error;
        },
      };
    },
  };
}
