import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { buildSchema, parse } from 'graphql';
import { accessScope, touchesUserScoped, userScopedFields, USER_SCOPED_SUBGRAPHS } from './liveScope';

const SUPERGRAPH = readFileSync(path.join(__dirname, '..', 'schema', 'supergraph.graphql'), 'utf8');

describe('access scopes of live queries', () => {
  const fields = userScopedFields(SUPERGRAPH);

  it('marks the fields the accounts and notifications services resolve, not entity keys or shared value types', () => {
    for (const f of ['Query.notification', 'Query.me', 'Notification.message', 'Patient.notifications', 'User.email']) expect(fields).toContain(f);
    for (const f of ['Query.appointment', 'Appointment.start', 'Patient.name', 'Patient.id', 'Doctor.name', 'PageInfo.hasNextPage', 'Appointment.id']) {
      expect(fields).not.toContain(f);
    }
  });

  it('finds a user-scoped field anywhere in a query, fragments included', () => {
    const schema = buildSchema(SUPERGRAPH, { assumeValidSDL: true });
    const q = (text: string) => touchesUserScoped(schema, parse(text), fields);
    expect(q('query ($id: ObjectID!) { appointment(id: $id) { id start patient { name } doctor { name } } }')).toBe(false);
    expect(q('query ($id: ObjectID!) { appointment(id: $id) { id ...P } } fragment P on Appointment { patient { notifications { edges { node { message } } } } }')).toBe(true);
    expect(q('query ($id: ObjectID!) { notification(id: $id) { id } }')).toBe(true);
  });

  it('puts subscribers in one scope only when every rule answers them alike', () => {
    const nurse1 = accessScope({ userId: 'u1', role: 'NURSE' }, false);
    expect(accessScope({ userId: 'u2', role: 'NURSE' }, false)).toBe(nurse1);
    expect(accessScope({ userId: 'u2', role: 'NURSE' }, true)).not.toBe(accessScope({ userId: 'u1', role: 'NURSE' }, true));
    expect(accessScope({ userId: 'u1', role: 'ADMIN' }, false)).not.toBe(nurse1);
    expect(accessScope({ userId: 'p1', role: 'PATIENT', patientId: 'a' }, false)).not.toBe(accessScope({ userId: 'p2', role: 'PATIENT', patientId: 'b' }, false));
    expect(accessScope({ userId: 'd1', role: 'DOCTOR', doctorId: 'a' }, false)).not.toBe(accessScope({ userId: 'd2', role: 'DOCTOR', doctorId: 'b' }, false));
  });

  it("knows every service whose rules read the caller's user id", () => {
    // A service whose access rules, resolvers or service read the user id must be user-scoped:
    // otherwise two users of one role could share an answer only one of them may see.
    const root = path.join(__dirname, '..', 'subgraphs');
    const readers = readdirSync(root).filter((name) =>
      ['access.ts', 'resolvers.ts', 'service.ts'].some((file) => {
        const p = path.join(root, name, file);
        return existsSync(p) && /\buserId\b/.test(readFileSync(p, 'utf8'));
      }),
    );
    expect(readers.filter((name) => !USER_SCOPED_SUBGRAPHS.includes(name))).toEqual([]);
  });
});
