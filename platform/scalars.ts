import { GraphQLScalarType, Kind, type DocumentNode } from 'graphql';
import {
  DateTimeResolver,
  EmailAddressResolver,
  LocalDateResolver,
  LocalTimeResolver,
  NonEmptyStringResolver,
  ObjectIDResolver,
  PhoneNumberResolver,
  PositiveIntResolver,
  TimeZoneResolver,
} from 'graphql-scalars';

/** IANA zone names are few (~600); a name once found valid stays valid for the process's life. */
const MAX_KNOWN_ZONES = 1_000;
const knownZones = new Set<string>();

/** Validates a zone name once per process: graphql-scalars builds an Intl.DateTimeFormat per value (~0.1 ms). */
function onceValid(check: (value: unknown) => unknown): (value: unknown) => unknown {
  return (value) => {
    if (typeof value === 'string' && knownZones.has(value)) return value;
    const valid = check(value);
    if (typeof valid === 'string' && knownZones.size < MAX_KNOWN_ZONES) knownZones.add(valid);
    return valid;
  };
}

/** graphql-scalars' TimeZone with each distinct zone name validated once (same rules, same errors). */
const TimeZone = new GraphQLScalarType({
  ...TimeZoneResolver.toConfig(),
  serialize: onceValid((v) => TimeZoneResolver.serialize(v)),
  parseValue: onceValid((v) => TimeZoneResolver.parseValue(v)),
});

/** The graphql-scalars every subgraph may declare in its SDL, by name. */
const ALL: Record<string, GraphQLScalarType> = {
  DateTime: DateTimeResolver,
  EmailAddress: EmailAddressResolver,
  LocalDate: LocalDateResolver,
  LocalTime: LocalTimeResolver,
  NonEmptyString: NonEmptyStringResolver,
  ObjectID: ObjectIDResolver,
  PhoneNumber: PhoneNumberResolver,
  PositiveInt: PositiveIntResolver,
  TimeZone,
};

/** Resolvers for the scalars a schema declares; fails loudly for a scalar we have none for. */
export function scalarsFor(typeDefs: DocumentNode): Record<string, GraphQLScalarType> {
  const out: Record<string, GraphQLScalarType> = {};
  for (const def of typeDefs.definitions) {
    if (def.kind !== Kind.SCALAR_TYPE_DEFINITION) continue;
    const scalar = ALL[def.name.value];
    if (!scalar) throw new Error(`No resolver for scalar ${def.name.value}; add it to platform/scalars.ts`);
    out[def.name.value] = scalar;
  }
  return out;
}
