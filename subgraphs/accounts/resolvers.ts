import type { Resolvers } from './__generated__/resolvers-types';
import { sessionUser } from './access';

/** Thin: arguments → AccountService → result. The access policy (access.ts) runs before each. */
export const resolvers: Resolvers = {
  Query: {
    clinic: (_p, _a, ctx) => ctx.accounts.clinic(),
    me: (_p, _a, ctx) => ctx.accounts.get(ctx.identity.userId!),
    user: (_p, { id }, ctx) => ctx.accounts.get(id),
    users: (_p, args, ctx) => ctx.accounts.list(args),
    auditLog: (_p, { filter, ...page }, ctx) => ctx.accounts.auditLog(filter, page),
  },
  Mutation: {
    login: (_p, { email, password }, ctx) => ctx.accounts.login(email, password, ctx.client),
    refreshSession: (_p, { refreshToken }, ctx) => ctx.accounts.refresh(refreshToken),
    logout: (_p, { refreshToken }, ctx) => ctx.accounts.logout(refreshToken),
    changePassword: (_p, { currentPassword, newPassword }, ctx) =>
      ctx.accounts.changePassword(ctx.identity.userId!, currentPassword, newPassword),
    createUser: (_p, { input }, ctx) => ctx.accounts.create(input),
    setUserRole: (_p, { id, role }, ctx) => ctx.accounts.setRole(ctx.identity.userId!, id, role),
    deactivateUser: (_p, { id }, ctx) => ctx.accounts.setActive(ctx.identity.userId!, id, false),
    reactivateUser: (_p, { id }, ctx) => ctx.accounts.setActive(ctx.identity.userId!, id, true),
    resetPassword: (_p, { id, newPassword }, ctx) => ctx.accounts.resetPassword(id, newPassword),
    linkUserToPatient: (_p, { userId, patientId }, ctx) => ctx.accounts.link(userId, { patientId }),
    linkUserToDoctor: (_p, { userId, doctorId }, ctx) => ctx.accounts.link(userId, { doctorId }),
  },
  User: {
    __resolveReference: (ref, ctx) => ctx.loaders.user.load(ref.id),
    id: (u) => String(u._id),
    patient: (u) => (u.role === 'PATIENT' && u.patientId ? { id: u.patientId } : null),
    doctor: (u) => (u.role === 'DOCTOR' && u.doctorId ? { id: u.doctorId } : null),
  },
  Session: {
    // The caller holds this user's fresh tokens: they may read the user (access.ts).
    user: (s) => sessionUser(s.user),
  },
};
