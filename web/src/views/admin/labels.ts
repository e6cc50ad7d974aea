import type { AuditOperation, AuditOutcome, Role } from '../../gql/graphql';

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


export const MIN_PASSWORD = 12;
