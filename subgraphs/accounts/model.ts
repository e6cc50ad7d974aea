import { Schema, type Connection, type Model, type Types } from 'mongoose';
import type { Role } from '../../platform/identity';
import { ROLES } from '../../platform/identity';

export interface UserDoc {
  _id: Types.ObjectId;
  email: string;
  passwordHash: string;
  role: Role;
  patientId?: string | null;
  doctorId?: string | null;
  active: boolean;
  lastLoginAt?: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** A refresh token, stored only as its SHA-256 hash. Used once: refreshing rotates it. */
export interface RefreshTokenDoc {
  _id: Types.ObjectId;
  tokenHash: string;
  userId: Types.ObjectId;
  expiresAt: Date;
  usedAt?: Date | null;
  revokedAt?: Date | null;
}

/**
 * Sign-in attempts without a success of one (email, client) pair or one client address
 * (subgraphs/accounts/throttle.ts; `_id` a hash, so no email or address is stored in clear).
 */
export interface LoginThrottleDoc {
  _id: string;
  attempts: number;
  lastAttemptAt: Date;
  /** The next attempt before this is refused (RATE_LIMITED). */
  blockedUntil?: Date | null;
}

/** A device (the router's device cookie) that signed in to an email successfully: `_id` hashes both. */
export interface KnownDeviceDoc {
  _id: string;
  lastSignInAt: Date;
}

const UserSchema = new Schema<UserDoc>(
  {
    email: { type: String, required: true, lowercase: true, trim: true },
    passwordHash: { type: String, required: true },
    role: { type: String, required: true, enum: ROLES },
    patientId: { type: String },
    doctorId: { type: String },
    active: { type: Boolean, required: true, default: true },
    lastLoginAt: { type: Date },
  },
  { timestamps: true, collection: 'users' },
);
UserSchema.index({ email: 1 }, { unique: true });
UserSchema.index({ role: 1, email: 1 });

const RefreshTokenSchema = new Schema<RefreshTokenDoc>(
  {
    tokenHash: { type: String, required: true },
    userId: { type: Schema.Types.ObjectId, required: true },
    expiresAt: { type: Date, required: true },
    usedAt: { type: Date },
    revokedAt: { type: Date },
  },
  { collection: 'refresh_tokens', versionKey: false },
);
RefreshTokenSchema.index({ tokenHash: 1 }, { unique: true });
RefreshTokenSchema.index({ userId: 1 });

const LoginThrottleSchema = new Schema<LoginThrottleDoc>(
  {
    _id: { type: String, required: true },
    attempts: { type: Number, required: true },
    lastAttemptAt: { type: Date, required: true },
    blockedUntil: { type: Date },
  },
  // login_throttle held the former per-email lock-out documents.
  { collection: 'login_attempts', versionKey: false },
);

LoginThrottleSchema.index({ lastAttemptAt: 1 });

const KnownDeviceSchema = new Schema<KnownDeviceDoc>(
  {
    _id: { type: String, required: true },
    lastSignInAt: { type: Date, required: true },
  },
  { collection: 'known_devices', versionKey: false },
);
KnownDeviceSchema.index({ lastSignInAt: 1 });

export interface AccountModels {
  User: Model<UserDoc>;
  RefreshToken: Model<RefreshTokenDoc>;
  LoginThrottle: Model<LoginThrottleDoc>;
  KnownDevice: Model<KnownDeviceDoc>;
}

export async function createAccountModels(conn: Connection): Promise<AccountModels> {
  const models = {
    User: conn.model<UserDoc>('User', UserSchema),
    RefreshToken: conn.model<RefreshTokenDoc>('RefreshToken', RefreshTokenSchema),
    LoginThrottle: conn.model<LoginThrottleDoc>('LoginThrottle', LoginThrottleSchema),
    KnownDevice: conn.model<KnownDeviceDoc>('KnownDevice', KnownDeviceSchema),
  };
  await Promise.all([models.User.createIndexes(), models.RefreshToken.createIndexes(), models.LoginThrottle.createIndexes(), models.KnownDevice.createIndexes()]);
  return models;
}
