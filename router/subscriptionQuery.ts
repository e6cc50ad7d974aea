import {
  GraphQLError,
  Kind,
  OperationTypeNode,
  getArgumentValues,
  getNamedType,
  getOperationAST,
  getVariableValues,
  parseType,
  print,
  visit,
  type ASTNode,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLScalarType,
  type GraphQLSchema,
  type SelectionNode,
  type VariableDefinitionNode,
} from 'graphql';
import { ObjectIDResolver } from 'graphql-scalars';
import { ErrorCode } from '../platform/errors';
import { LIVE_FIELDS } from './liveFields';
import { touchesUserScoped } from './liveScope';

/**
 * A validated subscription turned into the query that re-reads the changed entity:
 *   subscription S($d: ObjectID!) { appointmentChanged(doctorId: $d) { start doctor { name } } }
 * → query S($liveEntityId: ObjectID!) { appointmentChanged: appointment(id: $liveEntityId) { start doctor { name } } }
 * The selection set, its fragments and the variables it uses are kept; the response key stays the
 * subscription's, so clients see the shape they asked for.
 */
export interface LiveQuery {
  /** The subscription root field, e.g. appointmentChanged. */
  field: string;
  operationName: string | null;
  topic: string;
  /** The query document, printed once (Apollo Server caches its parse and validation). */
  query: string;
  /** The query's variables for one event, or null when the event is not for this subscription. */
  variablesFor(eventData: Readonly<Record<string, unknown>>): Record<string, unknown> | null;
  /** The changed entity's id in an event, or null when the event is not for this subscription. */
  entityIdFor(eventData: Readonly<Record<string, unknown>>): string | null;
  /**
   * Equal for subscriptions that make the same query for every event (same query text, the
   * variables it keeps and the subscription's arguments): with equal access scopes, one read serves all.
   */
  key: string;
  /** The query selects a field whose answer may depend on the caller's user id (liveScope.ts). */
  userScoped: boolean;
  /** The fields selected on the entity (for the router's audit entries of fanned-out answers). */
  fields: string[];
}

/** Scalars of subscription arguments the router checks itself (the gateway's schema does not). */
const ARGUMENT_SCALARS: Readonly<Record<string, GraphQLScalarType>> = { ObjectID: ObjectIDResolver };

const ID_VARIABLE = 'liveEntityId';

const refuse = (message: string, code: string = ErrorCode.GRAPHQL_VALIDATION_FAILED, nodes?: ASTNode): GraphQLError[] => [
  new GraphQLError(message, { nodes, extensions: { code } }),
];

/** Plans the live query of a document already validated against `schema`; errors are for the client. */
export function planLiveQuery(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  rawVariables: Readonly<Record<string, unknown>>,
  /** Fields whose answer may depend on the user id (liveScope.ts userScopedFields). */
  userScopedFields: ReadonlySet<string>,
): LiveQuery | GraphQLError[] {
  const op = getOperationAST(document, operationName);
  if (!op) return refuse('Unable to identify the operation: send one operation or name it in operationName');
  if (op.operation !== OperationTypeNode.SUBSCRIPTION) {
    return refuse('Only subscriptions are served over WebSocket; send queries and mutations as HTTP POST', ErrorCode.GRAPHQL_VALIDATION_FAILED, op);
  }
  const [root, ...more] = op.selectionSet.selections;
  if (!root || more.length > 0 || root.kind !== Kind.FIELD || (root.directives?.length ?? 0) > 0 || !root.selectionSet) {
    return refuse('A subscription selects exactly one field, with no directives or fragments at the top level', ErrorCode.GRAPHQL_VALIDATION_FAILED, op.selectionSet);
  }
  const live = LIVE_FIELDS[root.name.value];
  const subscriptionField = schema.getSubscriptionType()?.getFields()[root.name.value];
  const readField = live ? schema.getQueryType()?.getFields()[live.queryField] : undefined;
  const idArg = readField?.args.find((a) => a.name === 'id');
  if (!live || !subscriptionField || !idArg) {
    return refuse(`The subscription ${root.name.value} is not available on this router`, ErrorCode.GRAPHQL_VALIDATION_FAILED, root);
  }

  const variables = getVariableValues(schema, op.variableDefinitions ?? [], rawVariables);
  if (variables.errors) return variables.errors.map((e) => new GraphQLError(e.message, { nodes: e.nodes, extensions: { code: ErrorCode.BAD_USER_INPUT } }));
  let args: Record<string, unknown>;
  try {
    args = getArgumentValues(subscriptionField, root, variables.coerced);
    checkArgumentScalars(subscriptionField, args);
  } catch (err) {
    return refuse((err as Error).message, ErrorCode.BAD_USER_INPUT, root);
  }

  const fragments = reachableFragments(document, root);
  const used = usedVariables([root.selectionSet, ...fragments]);
  const kept = (op.variableDefinitions ?? []).filter((d) => used.has(d.variable.name.value));
  let idVariable = ID_VARIABLE;
  while ((op.variableDefinitions ?? []).some((d) => d.variable.name.value === idVariable)) idVariable += '_';

  const idDefinition: VariableDefinitionNode = {
    kind: Kind.VARIABLE_DEFINITION,
    variable: { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: idVariable } },
    type: parseType(String(idArg.type), { noLocation: true }),
  };
  const read: FieldNode = {
    kind: Kind.FIELD,
    alias: { kind: Kind.NAME, value: root.alias?.value ?? root.name.value },
    name: { kind: Kind.NAME, value: live.queryField },
    arguments: [{ kind: Kind.ARGUMENT, name: { kind: Kind.NAME, value: 'id' }, value: idDefinition.variable }],
    directives: [],
    selectionSet: root.selectionSet,
  };
  const query: DocumentNode = {
    kind: Kind.DOCUMENT,
    definitions: [
      {
        kind: Kind.OPERATION_DEFINITION,
        operation: OperationTypeNode.QUERY,
        name: op.name,
        variableDefinitions: [idDefinition, ...kept],
        directives: [],
        selectionSet: { kind: Kind.SELECTION_SET, selections: [read] },
      },
      ...fragments,
    ],
  };
  const passed: Record<string, unknown> = {};
  for (const d of kept) {
    const name = d.variable.name.value;
    if (rawVariables[name] !== undefined) passed[name] = rawVariables[name];
  }
  const text = print(query);
  return {
    field: root.name.value,
    operationName: op.name?.value ?? null,
    topic: live.topic,
    query: text,
    variablesFor: (data) => {
      const id = live.entityId(data, args);
      return id === null ? null : { ...passed, [idVariable]: id };
    },
    entityIdFor: (data) => live.entityId(data, args),
    key: JSON.stringify([text, passed, args]),
    userScoped: touchesUserScoped(schema, query, userScopedFields),
    fields: selectedFieldNames(root, fragments),
  };
}

/** Names of the fields a selection picks on its object, through fragments (no meta fields). */
function selectedFieldNames(root: FieldNode, fragments: readonly FragmentDefinitionNode[]): string[] {
  const byName = new Map(fragments.map((f) => [f.name.value, f]));
  const names = new Set<string>();
  const seen = new Set<string>();
  const walk = (selections: readonly SelectionNode[]): void => {
    for (const sel of selections) {
      if (sel.kind === Kind.FIELD) {
        if (!sel.name.value.startsWith('__')) names.add(sel.name.value);
      } else if (sel.kind === Kind.INLINE_FRAGMENT) walk(sel.selectionSet.selections);
      else if (!seen.has(sel.name.value)) {
        seen.add(sel.name.value);
        const fragment = byName.get(sel.name.value);
        if (fragment) walk(fragment.selectionSet.selections);
      }
    }
  };
  walk(root.selectionSet?.selections ?? []);
  return [...names];
}

function checkArgumentScalars(field: GraphQLField<unknown, unknown>, args: Readonly<Record<string, unknown>>): void {
  for (const arg of field.args) {
    const scalar = ARGUMENT_SCALARS[getNamedType(arg.type).name];
    const value = args[arg.name];
    if (scalar && value !== undefined && value !== null && !Array.isArray(value)) {
      try {
        scalar.parseValue(value);
      } catch (err) {
        throw new Error(`Argument "${arg.name}": ${(err as Error).message}`);
      }
    }
  }
}

/** The fragment definitions the node's selections use, directly or through other fragments. */
function reachableFragments(document: DocumentNode, node: FieldNode): FragmentDefinitionNode[] {
  const all = new Map<string, FragmentDefinitionNode>();
  for (const def of document.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) all.set(def.name.value, def);
  const found = new Map<string, FragmentDefinitionNode>();
  const walk = (from: ASTNode): void => {
    visit(from, {
      FragmentSpread(spread) {
        const fragment = all.get(spread.name.value);
        if (fragment && !found.has(fragment.name.value)) {
          found.set(fragment.name.value, fragment);
          walk(fragment);
        }
      },
    });
  };
  walk(node);
  return [...found.values()];
}

function usedVariables(nodes: readonly ASTNode[]): Set<string> {
  const names = new Set<string>();
  for (const node of nodes) {
    visit(node, {
      Variable(v) {
        names.add(v.name.value);
      },
    });
  }
  return names;
}
