import { buildSubgraphSchema } from '@apollo/subgraph';
import { graphql, parse } from 'graphql';
import { AuditBuffer } from './audit';
import { allow, applyAccessPolicy, roles, type AccessPolicy } from './authz';
import type { SubgraphContext } from './context';
import type { Identity } from './identity';
import { createLogger } from './logger';

const typeDefs = parse(`
  type Query { secret(id: ID!): Record!  records: [Record!]! }
  type Record @key(fields: "id") { id: ID! owner: String! note: String! visits(since: Int): Int }
`);
const data = [
  { id: '1', owner: 'u1', note: 'mine', visits: 3 },
  { id: '2', owner: 'u2', note: 'theirs', visits: 1 },
];
const resolvers = {
  Query: { secret: (_: unknown, { id }: { id: string }) => data.find((d) => d.id === id), records: () => data },
  Record: { __resolveReference: (ref: { id: string }) => data.find((d) => d.id === ref.id) },
};
const ownRecord = ({ ctx, parent }: { ctx: SubgraphContext; parent: unknown }) => (parent as { owner: string }).owner === ctx.identity.userId;

const policy: AccessPolicy<SubgraphContext> = {
  Query: { secret: roles('NURSE', 'PATIENT'), records: roles('NURSE', 'PATIENT') },
  Record: { __object: ownRecord, __audit: { entityType: 'Record', id: (r) => (r as { id: string }).id }, id: allow, owner: allow, note: roles('PATIENT'),
    // A field with its own audit, named by its parent (like Patient.appointments in appointments).
    visits: {
      rule: ({ ctx, args }) => ctx.identity.role === 'PATIENT' && args.since !== 0,
      audit: { entityType: 'Visits', operation: 'READ', entityId: (_a, _r, parent) => (parent as { id: string }).id, fields: () => ['visits'] },
    },
  },
};

function ctxFor(identity: Identity): SubgraphContext {
  const log = createLogger('test', 'silent');
  return { identity, requestId: 'r', log, audit: new AuditBuffer(null, 'test', identity, 'r') };
}

describe('applyAccessPolicy', () => {
  it('refuses to start when a field has no rule', () => {
    const schema = buildSubgraphSchema([{ typeDefs, resolvers }]);
    const { note: _n, ...partial } = policy.Record;
    expect(() => applyAccessPolicy(schema, { ...policy, Record: partial })).toThrow(/No access rule for: Record\.note/);
  });

  it('denies by role, guards every object, filters lists, audits reads and denials', async () => {
    const schema = applyAccessPolicy(buildSubgraphSchema([{ typeDefs, resolvers }]), policy);
    const run = async (identity: Identity, source: string) => {
      const ctx = ctxFor(identity);
      const res = await graphql({ schema, source, contextValue: ctx });
      return { res, audit: ctx.audit.pending };
    };
    const patient = { userId: 'u1', role: 'PATIENT' as const };

    const own = await run(patient, '{ secret(id: "1") { id note } }');
    expect(own.res.errors).toBeUndefined();
    expect(own.audit).toMatchObject([{ entityType: 'Record', entityId: '1', operation: 'READ', outcome: 'ALLOWED', fields: ['id', 'note'] }]);

    // Left out by @include / @skip: not read, so not audited as read.
    const ctx = ctxFor(patient);
    const conditional = await graphql({ schema, source: 'query Q($n: Boolean!) { secret(id: "1") { id note @include(if: $n) owner @skip(if: true) } }', variableValues: { n: false }, contextValue: ctx });
    expect(conditional.errors).toBeUndefined();
    expect(conditional.data).toEqual({ secret: { id: '1' } });
    expect(ctx.audit.pending).toMatchObject([{ entityId: '1', outcome: 'ALLOWED', fields: ['id'] }]);

    const foreign = await run(patient, '{ secret(id: "2") { id } }');
    expect(foreign.res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(foreign.audit).toMatchObject([{ entityId: '2', outcome: 'DENIED' }]);

    const list = await run(patient, '{ records { id } }');
    expect(list.res.data).toEqual({ records: [{ id: '1' }] });

    const nurse = await run({ userId: 'u1', role: 'NURSE' }, '{ secret(id: "1") { note } }');
    expect(nurse.res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    // A field the caller may not read is audited DENIED with the record's id, never ALLOWED.
    expect(nurse.audit).toEqual([expect.objectContaining({ entityType: 'Record', entityId: '1', operation: 'READ', outcome: 'DENIED', fields: ['note'] })]);

    const nurseMixed = await run({ userId: 'u1', role: 'NURSE' }, '{ secret(id: "1") { id ...N } } fragment N on Record { owner note }');
    expect(nurseMixed.res.data).toBeNull();
    expect(nurseMixed.audit).toEqual([
      expect.objectContaining({ entityId: '1', outcome: 'ALLOWED', fields: ['id', 'owner'] }),
      expect.objectContaining({ entityId: '1', outcome: 'DENIED', fields: ['note'] }),
    ]);

    const ownVisits = await run(patient, '{ secret(id: "1") { visits } }');
    expect(ownVisits.res.data).toEqual({ secret: { visits: 3 } });
    expect(ownVisits.audit).toEqual([expect.objectContaining({ entityType: 'Record', entityId: '1', outcome: 'ALLOWED', fields: ['visits'] })]);
    // The selection's arguments reach the field's rule, in the guard as in the field's resolver.
    const visitsCtx = ctxFor(patient);
    const deniedVisits = await graphql({ schema, source: 'query V($s: Int) { secret(id: "1") { id visits(since: $s) } }', variableValues: { s: 0 }, contextValue: visitsCtx });
    expect(deniedVisits.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(visitsCtx.audit.pending).toEqual([
      expect.objectContaining({ entityType: 'Record', entityId: '1', outcome: 'ALLOWED', fields: ['id'] }),
      expect.objectContaining({ entityType: 'Visits', entityId: '1', outcome: 'DENIED', fields: ['visits'] }),
    ]);
    const nurseVisits = await run({ userId: 'u1', role: 'NURSE' }, '{ secret(id: "1") { id visits } }');
    expect(nurseVisits.audit).toEqual([
      expect.objectContaining({ entityType: 'Record', entityId: '1', outcome: 'ALLOWED', fields: ['id'] }),
      expect.objectContaining({ entityType: 'Visits', entityId: '1', outcome: 'DENIED', fields: ['visits'] }),
    ]);

    const nurseEntity = await run({ userId: 'u1', role: 'NURSE' }, '{ _entities(representations: [{ __typename: "Record", id: "1" }]) { ... on Record { id note } } }');
    expect(nurseEntity.res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(nurseEntity.audit).toEqual([
      expect.objectContaining({ entityId: '1', outcome: 'ALLOWED', fields: ['id'] }),
      expect.objectContaining({ entityId: '1', outcome: 'DENIED', fields: ['note'] }),
    ]);

    const anonymous = await run({}, '{ secret(id: "1") { id } }');
    expect(anonymous.res.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');

    const entity = await run(patient, '{ _entities(representations: [{ __typename: "Record", id: "2" }]) { ... on Record { id } } }');
    expect(entity.res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(entity.audit).toMatchObject([{ entityId: '2', outcome: 'DENIED', fields: ['id'] }]);
  });
});
