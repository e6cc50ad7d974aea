import { createHash, randomBytes } from 'node:crypto';
import bcrypt from 'bcryptjs';
import type DataLoader from 'dataloader';
import type { Model } from 'mongoose';
import { auditLogPage, type AuditEntryRow, type AuditRecordDoc } from '../../platform/audit';
import type { ClientInfo } from '../../platform/client';
import { Claims, claimsModel } from '../../platform/claim';
import type { Config } from '../../platform/config';
import type { SubgraphContext } from '../../platform/context';
import { badInput, conflict, isDuplicateKey, notFound, unauthenticated } from '../../platform/errors';
import type { Identity, Role } from '../../platform/identity';
import { signAccessToken } from '../../platform/jwt';
import { byIdLoader } from '../../platform/loaders';
import { paginate, type Connection } from '../../platform/pagination';
import type { AuditFilter, CreateUserInput } from './__generated__/resolvers-types';
import type { AccountModels, UserDoc } from './model';
import { SignInThrottle } from './throttle';

export interface Context extends SubgraphContext {
  accounts: AccountService;
  loaders: { user: DataLoader<string, UserDoc | null> };
}

export interface SessionResult {
  accessToken: string;
  accessTokenExpiresAt: Date;
  refreshToken: string;
  refreshTokenExpiresAt: Date;
  user: UserDoc;
}

const INVALID_LOGIN = 'Invalid email or password';
const SESSION_ENDED = 'This session has ended; sign in again';
const MIN_PASSWORD = 12;
const MAX_PASSWORD = 128;
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
/** Super-admin passwords that were published as defaults (the former development default). */
const PUBLISHED_SUPERADMIN_PASSWORDS = ['ChangeMe-SuperAdmin-1'];

/** Identity claims a user's tokens carry: the patient link only for patients, the doctor link only for doctors. */
export function identityOf(user: UserDoc): Required<Pick<Identity, 'userId' | 'role'>> & Identity {
  return {
    userId: String(user._id),
    role: user.role,
    ...(user.role === 'PATIENT' && user.patientId ? { patientId: user.patientId } : {}),
    ...(user.role === 'DOCTOR' && user.doctorId ? { doctorId: user.doctorId } : {}),
  };
}

function assertPasswordPolicy(password: string, field: string): void {
  if (password.length < MIN_PASSWORD || password.length > MAX_PASSWORD) {
    throw badInput(`${field} must be ${MIN_PASSWORD} to ${MAX_PASSWORD} characters long`, field);
  }
}

function assertLinks(role: Role, patientId?: string | null, doctorId?: string | null): void {
  if (patientId && role !== 'PATIENT') throw badInput('Only PATIENT users are linked to a patient record', 'patientId');
  if (doctorId && role !== 'DOCTOR') throw badInput('Only DOCTOR users are linked to a doctor profile', 'doctorId');
}

/** Users, sign-in, sessions and the super admin's user management. */
export class AccountService {
  private dummyHash: Promise<string>;
  /** Used refresh tokens, in the accounts database's `claims` collection. */
  private readonly claims: Claims;
  readonly throttle: SignInThrottle;

  constructor(
    private readonly models: AccountModels,
    private readonly auditTrail: Model<AuditRecordDoc>,
    private readonly cfg: Config,
  ) {
    // Compared against when the email is unknown, so both answers take as long.
    this.dummyHash = bcrypt.hash(randomBytes(16).toString('hex'), cfg.BCRYPT_ROUNDS);
    this.claims = new Claims(claimsModel(models.RefreshToken.db, 'claims'));
    this.throttle = new SignInThrottle(models, cfg);
  }

  loaders(): Context['loaders'] {
    return { user: byIdLoader(this.models.User) };
  }

  /** Creates the first super admin from SUPERADMIN_EMAIL / SUPERADMIN_PASSWORD when there is none. */
  async bootstrapSuperAdmin(): Promise<boolean> {
    if (await this.models.User.exists({ role: 'SUPER_ADMIN', active: true })) return false;
    try {
      await this.models.User.create({
        email: this.cfg.SUPERADMIN_EMAIL,
        passwordHash: await bcrypt.hash(this.cfg.SUPERADMIN_PASSWORD, this.cfg.BCRYPT_ROUNDS),
        role: 'SUPER_ADMIN',
        active: true,
      });
      return true;
    } catch (err) {
      if (isDuplicateKey(err)) return false; // another instance won the race, or the email is taken
      throw err;
    }
  }

  /**
   * A super admin still on a published default password (an installation first started with the
   * former development default) gets SUPERADMIN_PASSWORD instead, and their sessions end.
   * Returns the emails changed.
   */
  async replacePublishedSuperAdminPasswords(): Promise<string[]> {
    const admins = await this.models.User.find({ role: 'SUPER_ADMIN' }, { email: 1, passwordHash: 1 }).lean<Pick<UserDoc, '_id' | 'email' | 'passwordHash'>[]>();
    const changed: string[] = [];
    for (const admin of admins) {
      let published = false;
      for (const candidate of PUBLISHED_SUPERADMIN_PASSWORDS) published ||= await bcrypt.compare(candidate, admin.passwordHash);
      if (!published) continue;
      await this.models.User.updateOne({ _id: admin._id, passwordHash: admin.passwordHash }, { $set: { passwordHash: await bcrypt.hash(this.cfg.SUPERADMIN_PASSWORD, this.cfg.BCRYPT_ROUNDS) } });
      await this.revokeAll(String(admin._id));
      changed.push(admin.email);
    }
    return changed;
  }

  // ---- sign-in and sessions ----------------------------------------------------------------

  /** Signs in `email` from `client` (who is asking, vouched for by the router), throttled per (email, client) (throttle.ts). */
  async login(emailIn: string, password: string, client?: ClientInfo): Promise<SessionResult> {
    const email = emailIn.trim().toLowerCase();
    const attempt = await this.throttle.begin(email, client);
    const user = await this.models.User.findOne({ email }).lean<UserDoc>();
    const matches = await bcrypt.compare(password, user?.passwordHash ?? (await this.dummyHash));
    if (!user || !matches || !user.active) throw unauthenticated(INVALID_LOGIN);
    await attempt.succeeded();
    await this.models.User.updateOne({ _id: user._id }, { $set: { lastLoginAt: new Date() } });
    return this.issueSession(user);
  }

  private async issueSession(user: UserDoc): Promise<SessionResult> {
    const access = await signAccessToken(identityOf(user), this.cfg.JWT_SECRET, this.cfg.ACCESS_TOKEN_TTL_SECONDS);
    const refreshToken = randomBytes(32).toString('base64url');
    const refreshTokenExpiresAt = new Date(Date.now() + this.cfg.REFRESH_TOKEN_TTL_DAYS * 86_400_000);
    await this.models.RefreshToken.create({ tokenHash: sha256(refreshToken), userId: user._id, expiresAt: refreshTokenExpiresAt });
    return { accessToken: access.token, accessTokenExpiresAt: access.expiresAt, refreshToken, refreshTokenExpiresAt, user };
  }

  /**
   * Rotates a refresh token. Each token works once, also for concurrent refreshes: the use is a
   * permanent claim on the token's hash (platform/claim.ts; an insert, atomic on MongoDB and
   * FerretDB alike, unlike a conditional update on FerretDB). A second use of a used token may
   * mean it was stolen: it ends every session of the user.
   */
  async refresh(refreshToken: string): Promise<SessionResult> {
    const now = new Date();
    const tokenHash = sha256(refreshToken);
    const token = await this.models.RefreshToken.findOne({ tokenHash }).lean();
    if (!token) throw unauthenticated(SESSION_ENDED);
    if (!token.usedAt && (token.revokedAt || token.expiresAt <= now)) throw unauthenticated(SESSION_ENDED);
    if (token.usedAt || !(await this.claims.claimOnce(`refresh:${tokenHash}`))) {
      // A used token came back: it may be stolen. End every session of that user.
      await this.revokeAll(String(token.userId));
      throw unauthenticated(SESSION_ENDED);
    }
    await this.models.RefreshToken.updateOne({ _id: token._id }, { $set: { usedAt: now } });
    const user = await this.models.User.findById(token.userId).lean<UserDoc>();
    if (!user || !user.active) throw unauthenticated(SESSION_ENDED);
    return this.issueSession(user);
  }

  async logout(refreshToken: string): Promise<boolean> {
    await this.models.RefreshToken.updateOne({ tokenHash: sha256(refreshToken), revokedAt: null }, { $set: { revokedAt: new Date() } });
    return true;
  }

  private async revokeAll(userId: string): Promise<void> {
    await this.models.RefreshToken.updateMany({ userId, revokedAt: null }, { $set: { revokedAt: new Date() } });
  }

  async changePassword(userId: string, current: string, next: string): Promise<boolean> {
    assertPasswordPolicy(next, 'newPassword');
    const user = await this.get(userId);
    if (!(await bcrypt.compare(current, user.passwordHash))) throw badInput('The current password is not correct', 'currentPassword');
    await this.models.User.updateOne({ _id: user._id }, { $set: { passwordHash: await bcrypt.hash(next, this.cfg.BCRYPT_ROUNDS) } });
    await this.revokeAll(userId);
    return true;
  }

  // ---- user management (super admin) ---------------------------------------------------------

  /** The clinic's settings every client may read (Query.clinic). */
  clinic(): { timeZone: string } {
    return { timeZone: this.cfg.CLINIC_TIME_ZONE };
  }

  async get(id: string): Promise<UserDoc> {
    const user = await this.models.User.findById(id).lean<UserDoc>();
    if (!user) throw notFound('User', id);
    return user;
  }

  list(args: { role?: Role | null; first?: number | null; after?: string | null }): Promise<Connection<UserDoc>> {
    return paginate(this.models.User, args.role ? { role: args.role } : {}, 'email', args);
  }

  async create(input: CreateUserInput): Promise<UserDoc> {
    assertPasswordPolicy(input.password, 'password');
    assertLinks(input.role, input.patientId, input.doctorId);
    try {
      const doc = await this.models.User.create({
        email: input.email,
        passwordHash: await bcrypt.hash(input.password, this.cfg.BCRYPT_ROUNDS),
        role: input.role,
        patientId: input.patientId ?? undefined,
        doctorId: input.doctorId ?? undefined,
        active: true,
      });
      return doc.toObject<UserDoc>();
    } catch (err) {
      if (isDuplicateKey(err)) throw conflict(`A user with email ${input.email.toLowerCase()} already exists`);
      throw err;
    }
  }

  async setRole(actorId: string, id: string, role: Role): Promise<UserDoc> {
    const user = await this.get(id);
    if (user.role === 'SUPER_ADMIN' && role !== 'SUPER_ADMIN') await this.assertNotLastSuperAdmin(actorId, user);
    return this.change(id, { $set: { role } });
  }

  async setActive(actorId: string, id: string, active: boolean): Promise<UserDoc> {
    const user = await this.get(id);
    if (!active && user.role === 'SUPER_ADMIN') await this.assertNotLastSuperAdmin(actorId, user);
    const updated = await this.change(id, { $set: { active } });
    if (!active) await this.revokeAll(id);
    return updated;
  }

  async resetPassword(id: string, password: string): Promise<boolean> {
    assertPasswordPolicy(password, 'newPassword');
    await this.change(id, { $set: { passwordHash: await bcrypt.hash(password, this.cfg.BCRYPT_ROUNDS) } });
    await this.revokeAll(id);
    return true;
  }

  async link(id: string, link: { patientId: string } | { doctorId: string }): Promise<UserDoc> {
    const user = await this.get(id);
    if ('patientId' in link) assertLinks(user.role, link.patientId, null);
    else assertLinks(user.role, null, link.doctorId);
    return this.change(id, { $set: link });
  }

  private async assertNotLastSuperAdmin(actorId: string, target: UserDoc): Promise<void> {
    if (String(target._id) === actorId) throw conflict('You cannot demote or deactivate yourself');
    const others = await this.models.User.countDocuments({ role: 'SUPER_ADMIN', active: true, _id: { $ne: target._id } });
    if (others === 0) throw conflict('HealthSync must keep at least one active super admin');
  }

  private async change(id: string, update: Record<string, unknown>): Promise<UserDoc> {
    const doc = await this.models.User.findByIdAndUpdate(id, update, { returnDocument: 'after', runValidators: true }).lean<UserDoc>();
    if (!doc) throw notFound('User', id);
    return doc;
  }

  // ---- audit trail ---------------------------------------------------------------------------

  auditLog(filter: AuditFilter | null | undefined, args: { first?: number | null; after?: string | null }): Promise<Connection<AuditEntryRow>> {
    const q: Record<string, unknown> & { entityId?: string; userId?: string } = {};
    if (filter?.userId) q.userId = filter.userId;
    if (filter?.entityType) q.entityType = filter.entityType;
    if (filter?.entityId) q.entityId = filter.entityId;
    if (filter?.operation) q.operation = filter.operation;
    if (filter?.outcome) q.outcome = filter.outcome;
    if (filter?.from || filter?.to) q.at = { ...(filter.from ? { $gte: filter.from } : {}), ...(filter.to ? { $lt: filter.to } : {}) };
    return auditLogPage(this.auditTrail, q, args);
  }
}
