import { buildSchema, parse, print } from 'graphql';
import { planLiveQuery, type LiveQuery } from './subscriptionQuery';

const schema = buildSchema(`
  scalar ObjectID
  type Doctor { name: String }
  type Appointment { id: ID! start: String doctor: Doctor }
  type Query { appointment(id: ObjectID!): Appointment! }
  type Subscription { appointmentChanged(doctorId: ObjectID!): Appointment! somethingElse: Appointment }
`);
const DOCTOR = '0123456789abcdef01234567';
/** As if the doctors service's Doctor.name depended on the user id (liveScope.ts). */
const USER_SCOPED: ReadonlySet<string> = new Set(['Doctor.name']);

function plan(query: string, variables: Record<string, unknown> = {}, operationName?: string): LiveQuery {
  const result = planLiveQuery(schema, parse(query), operationName, variables, USER_SCOPED);
  if (Array.isArray(result)) throw new Error(result.map((e) => e.message).join('; '));
  return result;
}
const refusal = (query: string, variables: Record<string, unknown> = {}) => {
  const result = planLiveQuery(schema, parse(query), undefined, variables, USER_SCOPED);
  return Array.isArray(result) ? result[0].extensions.code : 'planned';
};
const same = (a: string, b: string) => expect(print(parse(a))).toBe(print(parse(b)));

describe('subscription → live query', () => {
  it('re-reads the changed entity under the subscription field name, with the same selection', () => {
    const live = plan(`subscription { appointmentChanged(doctorId: "${DOCTOR}") { start doctor { name } } }`);
    same(live.query, `query ($liveEntityId: ObjectID!) { appointmentChanged: appointment(id: $liveEntityId) { start doctor { name } } }`);
    expect(live).toMatchObject({ field: 'appointmentChanged', topic: 'appointment.changed', operationName: null });
    expect(live.variablesFor({ appointmentId: 'a1', doctorId: DOCTOR })).toEqual({ liveEntityId: 'a1' });
    expect(live.variablesFor({ appointmentId: 'a2', doctorId: 'fedcba9876543210fedcba98' })).toBeNull();
  });

  it('keeps the name, alias, fragments and the variables the selection uses; drops the others', () => {
    const live = plan(
      `subscription Watch($d: ObjectID!, $withDoctor: Boolean!, $liveEntityId: String) { mine: appointmentChanged(doctorId: $d) { ...A } }
       fragment A on Appointment { id ...B }
       fragment B on Appointment { doctor @include(if: $withDoctor) { name } }`,
      { d: DOCTOR, withDoctor: true },
    );
    same(
      live.query,
      `query Watch($liveEntityId_: ObjectID!, $withDoctor: Boolean!) { mine: appointment(id: $liveEntityId_) { ...A } }
       fragment A on Appointment { id ...B }
       fragment B on Appointment { doctor @include(if: $withDoctor) { name } }`,
    );
    expect(live.variablesFor({ appointmentId: 'a1', doctorId: DOCTOR })).toEqual({ withDoctor: true, liveEntityId_: 'a1' });
  });

  it('keys subscriptions that make the same query alike, says whether the answer may depend on the user id and lists the fields', () => {
    const a = plan(`subscription { appointmentChanged(doctorId: "${DOCTOR}") { id start } }`);
    const b = plan(`subscription S($d: ObjectID!) { appointmentChanged(doctorId: $d) { id start } }`, { d: DOCTOR });
    const again = plan(`subscription   { appointmentChanged(doctorId: "${DOCTOR}") {  id start } }`);
    const otherDoctor = plan(`subscription { appointmentChanged(doctorId: "fedcba9876543210fedcba98") { id start } }`);
    const withName = plan(`subscription { appointmentChanged(doctorId: "${DOCTOR}") { id ...D } } fragment D on Appointment { start doctor { name } }`);
    expect(again.key).toBe(a.key);
    expect(new Set([a.key, b.key, otherDoctor.key, withName.key]).size).toBe(4);
    expect([a.userScoped, withName.userScoped]).toEqual([false, true]);
    expect(withName.fields).toEqual(['id', 'start', 'doctor']);
    expect(a.entityIdFor({ appointmentId: 'a1', doctorId: DOCTOR })).toBe('a1');
    expect(a.entityIdFor({ appointmentId: 'a1', doctorId: 'fedcba9876543210fedcba98' })).toBeNull();
  });

  it('refuses what it cannot serve, with a code', () => {
    expect(refusal(`query { appointment(id: "${DOCTOR}") { id } }`)).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(refusal(`subscription { somethingElse { id } }`)).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(refusal(`subscription { ... on Subscription { appointmentChanged(doctorId: "${DOCTOR}") { id } } }`)).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(refusal(`subscription { appointmentChanged(doctorId: "nope") { id } }`)).toBe('BAD_USER_INPUT');
    expect(refusal(`subscription S($d: ObjectID!) { appointmentChanged(doctorId: $d) { id } }`)).toBe('BAD_USER_INPUT');
    expect(refusal(`subscription S($d: ObjectID!) { appointmentChanged(doctorId: $d) { id } }`, { d: DOCTOR })).toBe('planned');
  });
});
