import {
  defaultFieldResolver,
  getArgumentValues,
  getDirectiveValues,
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  getNamedType,
  isAbstractType,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  type FieldNode,
  type NamedTypeNode,
  type SelectionNode,
  type GraphQLField,
  type GraphQLFieldResolver,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLResolveInfo,
  type GraphQLSchema,
} from 'graphql';
import type { AuditOperation, AuditOutcome } from './audit';
import type { BaseContext, SubgraphContext } from './context';
import { forbidden, unauthenticated } from './errors';
import type { Role } from './identity';

/**
 * Declarative, default-deny access control for a subgraph.
 *
 * A policy names, per object type, a rule for every field (or `'*'` for the fields it does not
 * name) and optionally an `__object` guard that every object of that type must pass wherever it
 * appears: a query result, a mutation result, a nested field or a federation entity reference.
 * `applyAccessPolicy` refuses to start a schema with a field no rule covers, so a new field cannot
 * ship without a decision. PHI types name how to audit them: every guarded read, allowed or denied,
 * and every audited mutation is written to the audit trail. A read of an audited object is recorded
 * ALLOWED with the fields the caller may read and DENIED with the fields their rules refuse (never a
 * refused field in an ALLOWED entry); a field of an entity another service owns that gives access to
 * PHI (`Patient.appointments`) names its audit in its FieldPolicy, with the entity's id from its parent.
 */
export interface RuleInput<TCtx> {
  ctx: TCtx;
  args: Record<string, unknown>;
  parent: unknown;
}
export type Rule<TCtx> = (input: RuleInput<TCtx>) => boolean | Promise<boolean>;

/**
 * How a field is audited (a root field, or a field of an entity another service owns, such as
 * `Patient.appointments`). Writes are recorded allowed, denied or failed; READ fields only when
 * denied or failed, since every record actually read is recorded by its type's guard.
 */
export interface FieldAudit {
  entityType: string;
  operation: AuditOperation;
  /**
   * Id of the record the field touches (null for a list); for CREATE taken from the result; for a
   * field of an entity, from the parent object (the entity).
   */
  entityId: (args: Record<string, unknown>, result: unknown, parent: unknown) => string | null;
  /** Fields written (default: the fields selected on the result). */
  fields?: (args: Record<string, unknown>) => string[];
}

export interface FieldPolicy<TCtx> {
  rule: Rule<TCtx>;
  audit?: FieldAudit;
}

export interface TypePolicy<TCtx> {
  /** Guard every object of this type must pass, wherever it is returned. */
  __object?: Rule<TCtx>;
  /** For PHI types: how to name an object in the audit trail. */
  __audit?: { entityType: string; id: (obj: unknown) => string | null };
  [field: string]: Rule<TCtx> | FieldPolicy<TCtx> | TypePolicy<TCtx>['__audit'] | undefined;
}

export type AccessPolicy<TCtx> = Record<string, TypePolicy<TCtx>>;

// ---- rule helpers -------------------------------------------------------------------------

export const allow: Rule<unknown> = () => true;
export const deny: Rule<unknown> = () => false;
export const authenticated: Rule<BaseContext> = ({ ctx }) => Boolean(ctx.identity.userId && ctx.identity.role);
/** Another HealthSync service calling through platform/serviceClient.ts (never a user). */
export const internalService: Rule<BaseContext> = ({ ctx }) => Boolean(ctx.identity.service);
export function roles(...allowed: Role[]): Rule<BaseContext> {
  return ({ ctx }) => ctx.identity.role !== undefined && allowed.includes(ctx.identity.role);
}
/**
 * Rules answer at once where they can: a rule that needs no lookup returns a boolean, and so do
 * anyOf/allOf as long as the rules they ask do. A field whose rule answered at once costs no promise
 * (a 500-appointment day view resolves thousands of fields; a promise each added up).
 */
const isPromise = <T>(v: T | Promise<T>): v is Promise<T> => typeof (v as Promise<T> | null)?.then === 'function';

/** The first rule that allows wins; asked one after the other, as written. */
export function anyOf<TCtx>(...rules: Rule<TCtx>[]): Rule<TCtx> {
  const from = (input: RuleInput<TCtx>, start: number): boolean | Promise<boolean> => {
    for (let i = start; i < rules.length; i++) {
      const ok = rules[i](input);
      if (isPromise(ok)) return ok.then((yes) => yes || from(input, i + 1));
      if (ok) return true;
    }
    return false;
  };
  return (input) => from(input, 0);
}
/** Every rule must allow; asked one after the other, as written. */
export function allOf<TCtx>(...rules: Rule<TCtx>[]): Rule<TCtx> {
  const from = (input: RuleInput<TCtx>, start: number): boolean | Promise<boolean> => {
    for (let i = start; i < rules.length; i++) {
      const ok = rules[i](input);
      if (isPromise(ok)) return ok.then((yes) => yes && from(input, i + 1));
      if (!ok) return false;
    }
    return true;
  };
  return (input) => from(input, 0);
}

// ---- enforcement --------------------------------------------------------------------------

/** Types the federation machinery owns; their fields are not ours to authorise. */
const FEDERATION_TYPES = new Set(['_Service']);
const FEDERATION_QUERY_FIELDS = new Set(['_entities', '_service']);

function fieldPolicy<TCtx>(policy: TypePolicy<TCtx> | undefined, field: string): FieldPolicy<TCtx> | undefined {
  const entry = policy?.[field] ?? policy?.['*'];
  if (!entry) return undefined;
  return typeof entry === 'function' ? { rule: entry as Rule<TCtx> } : (entry as FieldPolicy<TCtx>);
}

/**
 * The sub-fields an operation selects on objects of one type, per field of the operation (the same
 * for every object the field returns), with their nodes (a field may be selected more than once,
 * with different arguments). Inline fragments and named fragment spreads count when their type
 * condition matches the type; `__typename` and other meta fields do not.
 */
type Selection = ReadonlyMap<string, readonly FieldNode[]>;
const selectionCache = new WeakMap<GraphQLResolveInfo['fieldNodes'], Map<string, { selection: Selection; names: string[] }>>();

function selectionOf(info: GraphQLResolveInfo, typeName: string): { selection: Selection; names: string[] } {
  let byType = selectionCache.get(info.fieldNodes);
  if (!byType) selectionCache.set(info.fieldNodes, (byType = new Map()));
  const cached = byType.get(typeName);
  if (cached) return cached;
  const selection = new Map<string, FieldNode[]>();
  const objectType = info.schema.getType(typeName);
  const applies = (condition: NamedTypeNode | undefined): boolean => {
    if (!condition || condition.name.value === typeName) return true;
    const type = info.schema.getType(condition.name.value);
    return !!type && isAbstractType(type) && isObjectType(objectType) && info.schema.isSubType(type, objectType);
  };
  const spread = new Set<string>();
  // What `@skip` / `@include` leave out is not read, so neither checked nor audited as read.
  const included = (sel: SelectionNode): boolean =>
    getDirectiveValues(GraphQLSkipDirective, sel, info.variableValues)?.if !== true &&
    getDirectiveValues(GraphQLIncludeDirective, sel, info.variableValues)?.if !== false;
  const visit = (selections: readonly SelectionNode[]) => {
    for (const sel of selections) {
      if (!included(sel)) continue;
      if (sel.kind === Kind.FIELD) {
        if (sel.name.value.startsWith('__')) continue;
        const nodes = selection.get(sel.name.value);
        if (nodes) nodes.push(sel);
        else selection.set(sel.name.value, [sel]);
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        if (applies(sel.typeCondition)) visit(sel.selectionSet.selections);
      } else if (!spread.has(sel.name.value)) {
        spread.add(sel.name.value);
        const fragment = info.fragments[sel.name.value];
        if (fragment && applies(fragment.typeCondition)) visit(fragment.selectionSet.selections);
      }
    }
  };
  for (const node of info.fieldNodes) visit(node.selectionSet?.selections ?? []);
  const entry = { selection, names: [...selection.keys()] };
  byType.set(typeName, entry);
  return entry;
}

/** Names of the sub-fields selected on an object of the field's (named) type, for the audit trail. */
function selectedFields(info: GraphQLResolveInfo, typeName = getNamedType(info.returnType).name): string[] {
  return selectionOf(info, typeName).names;
}

function deniedError(ctx: BaseContext) {
  return ctx.identity.userId || ctx.identity.service ? forbidden() : unauthenticated();
}

/** Lists every object field that no rule covers: the coverage check and its test use this. */
export function uncoveredFields<TCtx>(schema: GraphQLSchema, policy: AccessPolicy<TCtx>): string[] {
  const missing: string[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__') || FEDERATION_TYPES.has(type.name)) continue;
    for (const field of Object.values(type.getFields())) {
      if (type === schema.getQueryType() && FEDERATION_QUERY_FIELDS.has(field.name)) continue;
      if (!fieldPolicy(policy[type.name], field.name)) missing.push(`${type.name}.${field.name}`);
    }
  }
  return missing;
}

interface Guarded<TCtx> {
  rule: Rule<TCtx>;
  audit?: TypePolicy<TCtx>['__audit'];
}

/** A field rule the guard of an audited type decides per object: once per selection's arguments. */
interface FieldCheck<TCtx> {
  name: string;
  rule: Rule<TCtx>;
  args: Record<string, unknown>[];
  /** The field has its own FieldAudit: its resolver records its denial. */
  auditsItself: boolean;
}
interface ReadPlan<TCtx> {
  fields: string[];
  checks: FieldCheck<TCtx>[];
}

/** A field is readable when its rule allows every selection of it; a rule that fails counts as no. */
function fieldAllowed<TCtx>(check: FieldCheck<TCtx>, ctx: TCtx, parent: unknown): boolean | Promise<boolean> {
  const answers = check.args.map((args): boolean | Promise<boolean> => {
    try {
      const ok = check.rule({ ctx, args, parent });
      return isPromise(ok) ? ok.catch(() => false) : ok;
    } catch {
      return false;
    }
  });
  return answers.some(isPromise) ? Promise.all(answers).then((a) => a.every(Boolean)) : answers.every(Boolean);
}

/**
 * Wraps every resolver of the schema with its rule, every field returning a guarded type with the
 * type's guard, and every entity reference resolver likewise. Throws when a field has no rule.
 */
export function applyAccessPolicy<TCtx extends SubgraphContext>(schema: GraphQLSchema, policy: AccessPolicy<TCtx>): GraphQLSchema {
  const missing = uncoveredFields(schema, policy);
  if (missing.length) throw new Error(`No access rule for: ${missing.join(', ')} (add them to the service's access.ts)`);

  const guards = new Map<string, Guarded<TCtx>>();
  for (const [typeName, p] of Object.entries(policy)) {
    if (p.__object) guards.set(typeName, { rule: p.__object, audit: p.__audit });
  }

  /**
   * What a read of objects of one type selects, and for audited (PHI) types the field rules that
   * are not a plain `allow`, with the arguments of each selection of the field: the guard decides
   * them per object, so that a field the caller may not read is audited DENIED with the object's
   * id, and never listed in the ALLOWED entry (the field's own resolver refuses it as before).
   */
  const planRead = (typeName: string, info: GraphQLResolveInfo): ReadPlan<TCtx> => {
    const { selection, names } = selectionOf(info, typeName);
    const checks: FieldCheck<TCtx>[] = [];
    const objectType = schema.getType(typeName);
    if (guards.get(typeName)?.audit && isObjectType(objectType)) {
      for (const [name, nodes] of selection) {
        const fp = fieldPolicy(policy[typeName], name);
        const def = objectType.getFields()[name];
        if (!fp || fp.rule === allow || !def) continue;
        const args = def.args.length ? nodes.map((node) => getArgumentValues(def, node, info.variableValues)) : [{}];
        checks.push({ name, rule: fp.rule, args, auditsItself: !!fp.audit });
      }
    }
    return { fields: names, checks };
  };

  const checkObject = (obj: unknown, typeName: string, ctx: TCtx, plan: ReadPlan<TCtx>): boolean | Promise<boolean> => {
    const guard = guards.get(typeName);
    if (!guard || obj === null || obj === undefined) return true;
    const audit = guard.audit;
    const record = (outcome: AuditOutcome, fields: string[]) => {
      if (audit) ctx.audit.record({ entityType: audit.entityType, entityId: audit.id(obj), operation: 'READ', fields, outcome });
    };
    const decided = (ok: boolean): boolean | Promise<boolean> => {
      if (!ok || !audit || plan.checks.length === 0) {
        record(ok ? 'ALLOWED' : 'DENIED', plan.fields);
        return ok;
      }
      const verdicts = plan.checks.map((check) => fieldAllowed(check, ctx, obj));
      const split = (allowed: boolean[]): boolean => {
        const denied = plan.checks.filter((_c, i) => !allowed[i]);
        const read = denied.length ? plan.fields.filter((f) => !denied.some((c) => c.name === f)) : plan.fields;
        if (read.length > 0 || denied.length === 0) record('ALLOWED', read);
        // A field with its own audit records its denial itself (with its own entity and fields).
        const deniedHere = denied.filter((c) => !c.auditsItself).map((c) => c.name);
        if (deniedHere.length > 0) record('DENIED', deniedHere);
        return true;
      };
      return verdicts.some(isPromise) ? Promise.all(verdicts).then(split) : split(verdicts as boolean[]);
    };
    const ok = guard.rule({ ctx, args: {}, parent: obj });
    return isPromise(ok) ? ok.then(decided) : decided(ok);
  };

  const guardResult = (value: unknown, type: GraphQLOutputType, ctx: TCtx, info: GraphQLResolveInfo): unknown => {
    const named = getNamedType(type);
    if (!guards.has(named.name)) return value;
    const plan = planRead(named.name, info);
    const inner = isNonNullType(type) ? type.ofType : type;
    if (isListType(inner) && Array.isArray(value)) {
      // Lists drop what the caller may not see; services filter in their queries first.
      const keep = value.map((v) => checkObject(v, named.name, ctx, plan));
      if (keep.some(isPromise)) return Promise.all(keep).then((k) => value.filter((_v, i) => k[i]));
      return value.filter((_v, i) => keep[i]);
    }
    const ok = checkObject(value, named.name, ctx, plan);
    const decided = (yes: boolean) => {
      if (!yes) throw deniedError(ctx);
      return value;
    };
    return isPromise(ok) ? ok.then(decided) : decided(ok);
  };

  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__') || FEDERATION_TYPES.has(type.name)) continue;
    for (const field of Object.values(type.getFields())) {
      if (type === schema.getQueryType() && FEDERATION_QUERY_FIELDS.has(field.name)) continue;
      wrapField(type, field, fieldPolicy(policy[type.name], field.name)!, guardResult, guards.has(getNamedType(field.type).name));
    }
    wrapReference(type, guards, (obj, ctx, info) => checkObject(obj, type.name, ctx, planRead(type.name, info)), deniedError);
  }
  return schema;
}

function wrapField<TCtx extends SubgraphContext>(
  type: GraphQLObjectType,
  field: GraphQLField<unknown, TCtx>,
  fp: FieldPolicy<TCtx>,
  guardResult: (value: unknown, type: GraphQLOutputType, ctx: TCtx, info: GraphQLResolveInfo) => unknown,
  guarded: boolean,
): void {
  const resolve: GraphQLFieldResolver<unknown, TCtx> = field.resolve ?? defaultFieldResolver;
  const audit = fp.audit;
  const record = (ctx: TCtx, parent: unknown, args: Record<string, unknown>, info: GraphQLResolveInfo, result: unknown, outcome: AuditOutcome, reason?: string) => {
    if (!audit) return;
    ctx.audit.record({
      entityType: audit.entityType,
      entityId: audit.entityId(args, result, parent),
      operation: audit.operation,
      fields: audit.fields?.(args) ?? selectedFields(info),
      outcome,
      ...(reason ? { reason } : {}),
    });
  };
  const checked = async (allowed: Promise<boolean> | boolean, parent: unknown, args: Record<string, unknown>, ctx: TCtx, info: GraphQLResolveInfo): Promise<unknown> => {
    if (!(await allowed)) {
      record(ctx, parent, args, info, null, 'DENIED');
      if (!audit && (type.name === 'Query' || type.name === 'Mutation')) {
        ctx.log.warn({ field: `${type.name}.${field.name}`, role: ctx.identity.role ?? null }, 'access denied');
      }
      throw deniedError(ctx);
    }
    let result: unknown;
    try {
      result = await resolve(parent, args, ctx, info);
    } catch (err) {
      record(ctx, parent, args, info, null, 'FAILED', (err as Error).message);
      throw err;
    }
    if (audit?.operation !== 'READ') record(ctx, parent, args, info, result, 'ALLOWED');
    return guardResult(result, field.type, ctx, info);
  };
  field.resolve = (parent, args: Record<string, unknown>, ctx, info) => {
    const allowed = fp.rule({ ctx, args, parent });
    if (allowed !== true || audit) return checked(allowed, parent, args, ctx, info);
    // Allowed at once and nothing to audit for the field itself: the resolver's own answer, with
    // the type's guard on its objects; no promise unless the resolver or the guard makes one.
    const result = resolve(parent, args, ctx, info);
    if (!guarded) return result;
    return isPromise(result) ? result.then((r) => guardResult(r, field.type, ctx, info)) : guardResult(result, field.type, ctx, info);
  };
}

type ReferenceResolver<TCtx> = (ref: object, ctx: TCtx, info: GraphQLResolveInfo) => unknown;

function wrapReference<TCtx extends SubgraphContext>(
  type: GraphQLObjectType,
  guards: Map<string, Guarded<TCtx>>,
  checkObject: (obj: unknown, ctx: TCtx, info: GraphQLResolveInfo) => boolean | Promise<boolean>,
  denied: (ctx: BaseContext) => Error,
): void {
  const sub = (type.extensions as { apollo?: { subgraph?: { resolveReference?: ReferenceResolver<TCtx> } } }).apollo?.subgraph;
  const original = sub?.resolveReference;
  if (!sub || !original) return;
  if (!guards.has(type.name)) {
    throw new Error(`Entity ${type.name} has a reference resolver but no __object guard in the access policy`);
  }
  // Stays async: @apollo/subgraph resolves a batch of references in one map, where a synchronous
  // throw would fail every entity of the batch instead of this one.
  sub.resolveReference = async (ref, ctx, info) => {
    const obj = await original(ref, ctx, info);
    if (!(await checkObject(obj, ctx, info))) throw denied(ctx);
    return obj;
  };
}
