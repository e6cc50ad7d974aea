import type { AuditOperation, AuditOutcome, Role } from '../../gql/graphql';
import { LOCAL_ZONE } from '../../time';

/** Roles in words, in the order a super admin thinks of them. */
export const ROLES: readonly { value: Role; label: string }[] = [
  { value: 'SUPER_ADMIN', label: 'Super admin' },
  { value: 'ADMIN', label: 'Admin' },
  { value: 'DOCTOR', label: 'Doctor' },
  { value: 'NURSE', label: 'Nurse' },
  { value: 'PHARMACIST', label: 'Pharmacist' },
  { value: 'PATIENT', label: 'Patient' },
];

export function roleLabel(role: Role | null | undefined): string {
  return ROLES.find((r) => r.value === role)?.label ?? 'No role';
}

export const OPERATIONS: readonly { value: AuditOperation; label: string }[] = [
  { value: 'READ', label: 'Read' },
  { value: 'CREATE', label: 'Create' },
  { value: 'UPDATE', label: 'Update' },
  { value: 'DELETE', label: 'Delete' },
];

export const OUTCOMES: readonly { value: AuditOutcome; label: string }[] = [
  { value: 'ALLOWED', label: 'Allowed' },
  { value: 'DENIED', label: 'Denied' },
  { value: 'FAILED', label: 'Failed' },
];

/**
 * The clinic's time zone for dates typed into filters and times shown: the browser's zone (the
 * clinic's computers run in the clinic's zone; the graph does not publish CLINIC_TIME_ZONE).
 */
export const CLINIC_ZONE = LOCAL_ZONE;

export const MIN_PASSWORD = 12;
