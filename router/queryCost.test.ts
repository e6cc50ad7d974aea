import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildSchema, Kind, parse, type OperationDefinitionNode } from 'graphql';
import { loadConfig } from '../platform/config';
import { checkCost, DEFAULT_LIST_SIZE, listSizesOf, operationCost } from './queryCost';

const SUPERGRAPH_PATH = path.join(__dirname, '..', 'schema', 'supergraph.graphql');

// The real supergraph: its @listSize directives are what the router reads at start-up.
const sdl = readFileSync(SUPERGRAPH_PATH, 'utf8');
const schema = buildSchema(sdl);
const listSizes = listSizesOf(sdl);
const maxCost = loadConfig(process.env).MAX_QUERY_COST; // the run's secrets: test/globalSetup.ts

function cost(query: string, variables: Record<string, unknown> = {}): number {
  const document = parse(query);
  const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;
  return operationCost({ schema, document, operation, variables, listSizes });
}

/** bench/loadSteps.ts's day view: 50 doctors, their appointments of a day, patients, prescriptions. */
const DAY_VIEW = (first: string) => `query DayView($s: String!, $from: DateTime!, $to: DateTime!, $n: Int) {
  doctors(specialty: $s, first: ${first}) {
    edges { node { name appointments(from: $from, to: $to) {
      start reason
      patient { name allergies prescriptions(status: ACTIVE) { dosage medication { name strength } } }
    } } }
  }
}`;

describe('query cost (objects estimated from list sizes)', () => {
  it('reads @listSize from the supergraph', () => {
    expect(listSizes.get('Doctor.appointments')).toEqual({ assumedSize: 20 });
    expect(listSizes.get('Patient.prescriptions')).toEqual({ assumedSize: 5 });
    expect(listSizes.get('Query.doctors')).toEqual({ slicingArguments: ['first'], sizedFields: ['edges'] });
  });

  it('charges objects, not scalars, and a connection by its page size', () => {
    // DoctorConnection + 100 × (edge + doctor); scalars are free.
    expect(cost('{ doctors(first: 100) { edges { node { id name specialty } } pageInfo { hasNextPage } } }')).toBe(1 + 100 * 2 + 1);
    // Without `first` the argument's default (20) counts.
    expect(cost('{ doctors { edges { node { id } } } }')).toBe(1 + 20 * 2);
    expect(cost('{ specialties }')).toBe(0);
  });

  it('takes the page size from variables (and their defaults), not only from literals', () => {
    const q = 'query D($n: Int) { doctors(first: $n) { edges { node { id } } } }';
    expect(cost(q, { n: 100 })).toBe(1 + 100 * 2);
    expect(cost(q)).toBe(1 + 20 * 2);
    expect(cost('query D($n: Int = 7) { doctors(first: $n) { edges { node { id } } } }')).toBe(1 + 7 * 2);
  });

  it('accepts the 50-doctor day view as one query and multiplies nested lists', () => {
    // 50 × (edge + doctor + 20 appointments × (appointment + patient + 5 × (prescription + medication)))
    const day = 1 + 50 * (2 + 20 * (2 + 5 * 2));
    expect(cost(DAY_VIEW('50'))).toBe(day);
    expect(cost(DAY_VIEW('$n'), { n: 50 })).toBe(day);
    expect(checkCost({ schema, document: parse(DAY_VIEW('50')), operation: parse(DAY_VIEW('50')).definitions[0] as OperationDefinitionNode, variables: {}, listSizes }, maxCost)).toBeNull();
    // graphql-armor's costLimit (the router's limit before) refused it: 6,929.7 > 5,000.
    // Twice the doctors is twice the cost; first: 100 is above the limit.
    expect(cost(DAY_VIEW('$n'), { n: 100 })).toBe(1 + 100 * (2 + 20 * (2 + 5 * 2)));
    expect(cost(DAY_VIEW('$n'), { n: 100 })).toBeGreaterThan(maxCost);
  });

  it('refuses nested pages that multiply (each level asks for a page per element of the last)', () => {
    const nested = `{ doctors(first: 100) { edges { node { appointments(from: "2030-01-01T00:00:00Z", to: "2030-01-02T00:00:00Z") {
      patient { appointments(first: 100) { edges { node { id doctor { id } } } } } } } } } }`;
    expect(cost(nested)).toBe(1 + 100 * (2 + 20 * (1 + 1 + 1 + 100 * (1 + 1 + 1))));
    expect(cost(nested)).toBeGreaterThan(30 * maxCost);
    const error = checkCost({ schema, document: parse(nested), operation: parse(nested).definitions[0] as OperationDefinitionNode, variables: {}, listSizes }, maxCost);
    expect(error?.message).toMatch(new RegExp(`^Query Cost limit of ${maxCost} exceeded, found \\d+\\.`));
    expect(error?.extensions).toMatchObject({ code: 'GRAPHQL_VALIDATION_FAILED', maxCost });
  });

  it('counts fragments like the fields they stand for, lists without a size as DEFAULT_LIST_SIZE, mutations 10 more', () => {
    const inline = '{ patient(id: "65e000000000000000000001") { medicalHistory { condition } labResults { test } } }';
    expect(cost(inline)).toBe(1 + 2 * DEFAULT_LIST_SIZE);
    const spread = 'query { patient(id: "65e000000000000000000001") { ...P } } fragment P on Patient { medicalHistory { condition } ... on Patient { labResults { test } } }';
    expect(cost(spread)).toBe(cost(inline));
    expect(cost('mutation { cancelAppointment(id: "65e000000000000000000001", reason: "x") { id patient { id } } }')).toBe(10 + 1 + 1);
    // Introspection and __typename are not charged.
    expect(cost('{ __typename __schema { types { name fields { name } } } }')).toBe(0);
  });
});
