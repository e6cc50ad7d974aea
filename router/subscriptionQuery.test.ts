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

function plan(query: string, variables: Record<string, unknown> = {}, operationName?: string): LiveQuery {
  const result = planLiveQuery(schema, parse(query), operationName, variables);
  if (Array.isArray(result)) throw new Error(result.map((e) => e.message).join('; '));
  return result;
}
const refusal = (query: string, variables: Record<string, unknown> = {}) => {
  const result = planLiveQuery(schema, parse(query), undefined, variables);
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

  it('refuses what it cannot serve, with a code', () => {
    expect(refusal(`query { appointment(id: "${DOCTOR}") { id } }`)).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(refusal(`subscription { somethingElse { id } }`)).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(refusal(`subscription { ... on Subscription { appointmentChanged(doctorId: "${DOCTOR}") { id } } }`)).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(refusal(`subscription { appointmentChanged(doctorId: "nope") { id } }`)).toBe('BAD_USER_INPUT');
    expect(refusal(`subscription S($d: ObjectID!) { appointmentChanged(doctorId: $d) { id } }`)).toBe('BAD_USER_INPUT');
    expect(refusal(`subscription S($d: ObjectID!) { appointmentChanged(doctorId: $d) { id } }`, { d: DOCTOR })).toBe('planned');
  });
});
