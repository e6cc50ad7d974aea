import type { Role } from '../../gql/graphql';

/**
 * What the medications subgraph lets each role do (subgraphs/medications/access.ts); the app
 * offers a view or a button only to these roles, and the graph refuses the rest anyway.
 */

/** Anyone signed in reads the catalogue; these roles have it in their menu. */
export const CATALOGUE_READERS: readonly Role[] = ['SUPER_ADMIN', 'ADMIN', 'PHARMACIST', 'DOCTOR', 'NURSE'];
/** addMedication, updateMedication, receiveStock. */
export const STOCK_MANAGERS: readonly Role[] = ['SUPER_ADMIN', 'ADMIN', 'PHARMACIST'];
/** prescriptions: staff see all, a doctor theirs and their patients', a patient their own. */
export const PRESCRIPTION_READERS: readonly Role[] = ['SUPER_ADMIN', 'ADMIN', 'PHARMACIST', 'NURSE', 'DOCTOR', 'PATIENT'];
/** dispense. */
export const DISPENSERS: readonly Role[] = ['PHARMACIST', 'SUPER_ADMIN'];

export const canManageStock = (role: Role) => STOCK_MANAGERS.includes(role);
export const canDispense = (role: Role) => DISPENSERS.includes(role);
/** cancelPrescription: admins any, a doctor the ones they wrote. */
export const canCancel = (role: Role, prescriberId: string, doctorId: string | null) =>
  role === 'SUPER_ADMIN' || role === 'ADMIN' || (role === 'DOCTOR' && !!doctorId && prescriberId === doctorId);
