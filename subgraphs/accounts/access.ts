import { allow, anyOf, authenticated, internalService, roles, type AccessPolicy } from '../../platform/authz';
import type { Context } from './service';

const superAdmin = roles('SUPER_ADMIN');

/** Who may do what in the accounts service. Default deny: every field is named here. */
export const access: AccessPolicy<Context> = {
  Query: {
    me: authenticated,
    user: superAdmin,
    // Notifications looks up pharmacists and admins to alert.
    users: anyOf(superAdmin, internalService),
    auditLog: superAdmin,
  },
  Mutation: {
    login: allow,
    refreshSession: allow,
    logout: allow,
    changePassword: authenticated,
    createUser: superAdmin,
    setUserRole: superAdmin,
    deactivateUser: superAdmin,
    reactivateUser: superAdmin,
    resetPassword: superAdmin,
    linkUserToPatient: superAdmin,
    linkUserToDoctor: superAdmin,
  },
  // A user is visible to themselves (me, their own session) and to the super admin. The session
  // returned by login/refresh is read before the caller is signed in, so Session.user is allowed.
  User: { __object: allow, '*': allow },
  Session: { '*': allow },
  Patient: { id: allow },
  Doctor: { id: allow },
  UserEdge: { '*': allow },
  UserConnection: { '*': allow },
  AuditEntry: { '*': superAdmin },
  AuditEntryEdge: { '*': allow },
  AuditEntryConnection: { '*': allow },
  PageInfo: { '*': allow },
};
