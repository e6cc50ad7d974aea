import type { DocumentNode, GraphQLScalarType } from 'graphql';
import { Kind } from 'graphql';
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
  TimeZone: TimeZoneResolver,
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
