import { graphql } from '../../gql';

/** The super admin's documents: users, their links, and the PHI audit trail (the pickers' lookups are in ui/). */

export const AdminUsersDocument = graphql(`
  query AdminUsers($role: Role, $after: String) {
    users(role: $role, first: 20, after: $after) {
      edges {
        node {
          id
          email
          role
          active
          lastLoginAt
          patient {
            id
            name
          }
          doctor {
            id
            name
          }
        }
      }
      pageInfo {
        ...ShowMoreFields
      }
    }
  }
`);

/** Everyone who may appear in the audit log's user filter (the first 100 by email). */
export const AdminUserChoicesDocument = graphql(`
  query AdminUserChoices {
    users(first: 100) {
      edges {
        node {
          id
          email
          role
        }
      }
      pageInfo {
        ...ShowMoreFields
      }
    }
  }
`);

export const AdminUserDocument = graphql(`
  query AdminUser($id: ObjectID!) {
    user(id: $id) {
      id
      email
      role
      active
      lastLoginAt
      createdAt
      patient {
        id
        name
      }
      doctor {
        id
        name
      }
    }
  }
`);

export const AdminCreateUserDocument = graphql(`
  mutation AdminCreateUser($input: CreateUserInput!) {
    createUser(input: $input) {
      id
      email
      role
      active
    }
  }
`);

export const AdminSetUserRoleDocument = graphql(`
  mutation AdminSetUserRole($id: ObjectID!, $role: Role!) {
    setUserRole(id: $id, role: $role) {
      id
      role
    }
  }
`);

export const AdminDeactivateUserDocument = graphql(`
  mutation AdminDeactivateUser($id: ObjectID!) {
    deactivateUser(id: $id) {
      id
      active
    }
  }
`);

export const AdminReactivateUserDocument = graphql(`
  mutation AdminReactivateUser($id: ObjectID!) {
    reactivateUser(id: $id) {
      id
      active
    }
  }
`);

export const AdminResetPasswordDocument = graphql(`
  mutation AdminResetPassword($id: ObjectID!, $newPassword: String!) {
    resetPassword(id: $id, newPassword: $newPassword)
  }
`);

export const AdminLinkUserToPatientDocument = graphql(`
  mutation AdminLinkUserToPatient($userId: ObjectID!, $patientId: ObjectID!) {
    linkUserToPatient(userId: $userId, patientId: $patientId) {
      id
      patient {
        id
        name
      }
    }
  }
`);

export const AdminLinkUserToDoctorDocument = graphql(`
  mutation AdminLinkUserToDoctor($userId: ObjectID!, $doctorId: ObjectID!) {
    linkUserToDoctor(userId: $userId, doctorId: $doctorId) {
      id
      doctor {
        id
        name
      }
    }
  }
`);

export const AdminAuditLogDocument = graphql(`
  query AdminAuditLog($filter: AuditFilter, $after: String) {
    auditLog(filter: $filter, first: 25, after: $after) {
      edges {
        node {
          id
          at
          userId
          role
          service
          entityType
          entityId
          operation
          fields
          outcome
          reason
        }
      }
      pageInfo {
        ...ShowMoreFields
      }
    }
  }
`);
