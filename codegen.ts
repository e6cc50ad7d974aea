import type { CodegenConfig } from '@graphql-codegen/cli';
import { SUBGRAPHS } from './platform/services';

/**
 * Resolver types for every subgraph, generated from its schema.graphql into
 * subgraphs/<name>/__generated__/resolvers-types.ts (git-ignored; `npm run codegen`).
 * Parent types come from each service's model (mappers), the context from its service (or CONTEXTS).
 */
const MAPPERS: Record<string, Record<string, string>> = {
  patients: { Patient: '../model#PatientDoc', MedicalHistoryEntry: '../model#HistoryDoc', LabResult: '../model#LabResultDoc' },
  doctors: { Doctor: '../model#DoctorDoc' },
  appointments: { Appointment: '../model#AppointmentDoc', Patient: '{ id: string }', Doctor: '{ id: string }' },
  notifications: { Notification: '../model#NotificationDoc', Patient: '{ id: string }' },
  analytics: { Doctor: '{ id: string }', Patient: '{ id: string }', AnalyticsRun: '../model#RunDoc' },
  medications: {
    Medication: '../model#MedicationDoc',
    Prescription: '../model#PrescriptionDoc',
    Dispensation: '../dispense#DispenseResult',
    Patient: '{ id: string }',
    Doctor: '{ id: string }',
  },
  accounts: { User: '../model#UserDoc', Session: '../service#SessionResult', AuditEntry: '../../../platform/audit#AuditEntryRow' },
};

/** Where a subgraph's request context type lives, when not in its service.ts. */
const CONTEXTS: Record<string, string> = {
  appointments: '../doctorDays#Context',
};

const SCALARS = {
  DateTime: { input: 'Date', output: 'Date | string' },
  LocalDate: 'string',
  LocalTime: 'string',
  EmailAddress: 'string',
  PhoneNumber: 'string',
  ObjectID: 'string',
  NonEmptyString: 'string',
  PositiveInt: 'number',
  TimeZone: 'string',
};

/**
 * The admin web app's typed documents (graphql-codegen's client preset): every `graphql(...)` call in
 * web/src is checked against the client schema (schema/api.graphql) and typed, into web/src/gql/
 * (git-ignored). The trusted-documents manifest is made from the same sources by Apollo's generator
 * (scripts/webOperations.ts → schema/web-operations.json).
 */
const WEB_CLIENT: CodegenConfig['generates'] = {
  'web/src/gql/': {
    schema: 'schema/api.graphql',
    documents: ['web/src/**/*.{ts,tsx}', '!web/src/gql/**'],
    preset: 'client',
    presetConfig: { fragmentMasking: false },
    config: {
      useTypeImports: true,
      enumsAsTypes: true,
      avoidOptionals: { field: true, inputValue: false, object: false, defaultValue: false },
      scalars: { ...SCALARS, DateTime: 'string' },
    },
  },
};

const config: CodegenConfig = {
  overwrite: true,
  silent: false,
  generates: {
    ...WEB_CLIENT,
    ...Object.fromEntries(
      SUBGRAPHS.map((name) => [
        `subgraphs/${name}/__generated__/resolvers-types.ts`,
        {
          schema: `subgraphs/${name}/schema.graphql`,
          plugins: ['typescript', 'typescript-resolvers'],
          config: {
            federation: true,
            useTypeImports: true,
            enumsAsTypes: true,
            avoidOptionals: { field: true, inputValue: false, object: false, defaultValue: false },
            maybeValue: 'T | null',
            contextType: CONTEXTS[name] ?? '../service#Context',
            mappers: MAPPERS[name] ?? {},
            scalars: SCALARS,
          },
        },
      ]),
    ),
  },
};

export default config;
