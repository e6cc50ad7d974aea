import { allow, anyOf, authenticated, internalService, roles, type AccessPolicy, type Rule } from '../../platform/authz';
import type { UserDoc } from './model';
import type { Context } from './service';

const superAdmin = roles('SUPER_ADMIN');

/** User objects handed out in a session just issued (login, refresh): see `sessionUser`. */
const sessionUsers = new WeakSet<object>();

/**
 * Marks the user of a session that login/refresh just issued (resolvers.ts, `Session.user`): the
 * caller is not signed in yet, but holds that user's tokens, so they are that user. Only this very
 * object is marked (one fresh read per request), never the user as such.
 */
export function sessionUser(user: UserDoc): UserDoc {
  sessionUsers.add(user);
  return user;
}

/** The user themselves. */
const self: Rule<Context> = ({ ctx, parent }) => ctx.identity.userId !== undefined && ctx.identity.userId === String((parent as UserDoc)._id);
const ownSession: Rule<Context> = ({ parent }) => typeof parent === 'object' && parent !== null && sessionUsers.has(parent);

/** Who may do what in the accounts service. Default deny: every field is named here. */
export const access: AccessPolicy<Context> = {
  Query: {
    clinic: allow,
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
  // A user (email, role, links, …) is visible to themselves (me, the session they just got) and to
  // the super admin, wherever it is returned, also as a federation entity (_entities). Services
  // read them too (notifications looks up the staff to alert). The session returned by
  // login/refresh is read before the caller is signed in: its user is marked (sessionUser).
  Clinic: { '*': allow },
  User: { __object: anyOf<Context>(self, superAdmin, internalService, ownSession), '*': allow },
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
