import type { CareRelationDoc } from '../../subgraphs/patients/model';
import type { Role } from '../../platform/identity';
import type { GraphQLResponse, TestGraph } from '../helpers';

/**
 * Shared by the access suite and its per-service row files (test/access/*.rows.ts): the graph,
 * one signed-in user per role, and an "own" and a "foreign" patient. "Own" is the patient's own
 * record for PATIENT and a patient the doctor treats for DOCTOR; staff get the same answer for both.
 */
export type Target = 'own' | 'foreign';
export type Outcome = 'allowed' | 'denied';
export const ROLES: Role[] = ['SUPER_ADMIN', 'ADMIN', 'NURSE', 'PHARMACIST', 'DOCTOR', 'PATIENT'];

export interface AccessEnv {
  graph: TestGraph;
  tokens: Record<Role, string>;
  /** own/foreign patient ids, the DOCTOR user's doctor profile, the PATIENT user's id. */
  ids: { own: string; foreign: string; doctor: string; patientUser: string };
  /** Registers a patient as the super admin; returns its id. */
  register(firstName: string): Promise<string>;
  /** Makes the DOCTOR user's doctor treat this patient. */
  treat(patientId: string): Promise<void>;
}

export interface Op {
  /** `<subgraph>.<root field>` this row covers (the coverage test matches these). */
  field: string;
  /** The record to act on; default the shared own/foreign patient id. */
  target?: (t: Target, role: Role) => Promise<string>;
  run: (token: string, id: string) => Promise<GraphQLResponse>;
  /** Default: FORBIDDEN → denied, data without errors → allowed. */
  outcome?: (res: GraphQLResponse, id: string) => Outcome;
  expect: Record<Role, [own: boolean, foreign: boolean]>;
}

export interface AccessRows {
  /** Root fields that touch no patient data (`<subgraph>.<field>`). */
  notPatientData?: string[];
  /** @inaccessible fields only services may call; the suite checks the router refuses them. */
  internal?: { field: string; query: string }[];
  setup?(env: AccessEnv): Promise<void>;
  ops(env: AccessEnv): Record<string, Op>;
}

export const ALL: [boolean, boolean] = [true, true];
export const NONE: [boolean, boolean] = [false, false];
export const OWN: [boolean, boolean] = [true, false];

export function defaultOutcome(res: GraphQLResponse): Outcome {
  const code = res.errors?.[0]?.extensions?.code;
  if (code === 'FORBIDDEN') return 'denied';
  if (!res.errors && res.data) return 'allowed';
  throw new Error(`unexpected answer: ${JSON.stringify(res)}`);
}

/** For list queries: allowed when the record is in the answer. */
export function listed(res: GraphQLResponse, id: string): Outcome {
  if (res.errors?.[0]?.extensions?.code === 'FORBIDDEN') return 'denied';
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return JSON.stringify(res.data).includes(id) ? 'allowed' : 'denied';
}

export async function createCareRelation(graph: TestGraph, patientId: string, doctorId: string): Promise<void> {
  const model = graph.subgraphs.patients!.conn.model<CareRelationDoc>('CareRelation');
  await model.updateOne({ patientId, doctorId }, { $setOnInsert: { since: new Date() } }, { upsert: true });
}
