import { buildSubgraphSchema } from '@apollo/subgraph';
import { graphql, parse } from 'graphql';
import { AuditBuffer } from './audit';
import { allow, applyAccessPolicy, roles, type AccessPolicy } from './authz';
import type { SubgraphContext } from './context';
import type { Identity } from './identity';
import { createLogger } from './logger';

const typeDefs = parse(`
  type Query { secret(id: ID!): Record!  records: [Record!]! }
  type Record @key(fields: "id") { id: ID! owner: String! note: String! }
`);
const data = [
  { id: '1', owner: 'u1', note: 'mine' },
  { id: '2', owner: 'u2', note: 'theirs' },
];
const resolvers = {
  Query: { secret: (_: unknown, { id }: { id: string }) => data.find((d) => d.id === id), records: () => data },
  Record: { __resolveReference: (ref: { id: string }) => data.find((d) => d.id === ref.id) },
};
const ownRecord = ({ ctx, parent }: { ctx: SubgraphContext; parent: unknown }) => (parent as { owner: string }).owner === ctx.identity.userId;

const policy: AccessPolicy<SubgraphContext> = {
  Query: { secret: roles('NURSE', 'PATIENT'), records: roles('NURSE', 'PATIENT') },
  Record: { __object: ownRecord, __audit: { entityType: 'Record', id: (r) => (r as { id: string }).id }, id: allow, owner: allow, note: roles('PATIENT') },
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

    const foreign = await run(patient, '{ secret(id: "2") { id } }');
    expect(foreign.res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(foreign.audit).toMatchObject([{ entityId: '2', outcome: 'DENIED' }]);

    const list = await run(patient, '{ records { id } }');
    expect(list.res.data).toEqual({ records: [{ id: '1' }] });

    const nurse = await run({ userId: 'u1', role: 'NURSE' }, '{ secret(id: "1") { note } }');
    expect(nurse.res.errors?.[0].extensions?.code).toBe('FORBIDDEN');

    const anonymous = await run({}, '{ secret(id: "1") { id } }');
    expect(anonymous.res.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');

    const entity = await run(patient, '{ _entities(representations: [{ __typename: "Record", id: "2" }]) { ... on Record { id } } }');
    expect(entity.res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(entity.audit).toMatchObject([{ entityId: '2', outcome: 'DENIED', fields: ['id'] }]);
  });
});
