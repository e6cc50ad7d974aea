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

/** Failed sign-ins per email (known or not, so a lock reveals nothing). */
export interface LoginThrottleDoc {
  _id: string;
  failures: number;
  windowStart: Date;
  lockedUntil?: Date | null;
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
    failures: { type: Number, required: true },
    windowStart: { type: Date, required: true },
    lockedUntil: { type: Date },
  },
  { collection: 'login_throttle', versionKey: false },
);

export interface AccountModels {
  User: Model<UserDoc>;
  RefreshToken: Model<RefreshTokenDoc>;
  LoginThrottle: Model<LoginThrottleDoc>;
}

export async function createAccountModels(conn: Connection): Promise<AccountModels> {
  const models = {
    User: conn.model<UserDoc>('User', UserSchema),
    RefreshToken: conn.model<RefreshTokenDoc>('RefreshToken', RefreshTokenSchema),
    LoginThrottle: conn.model<LoginThrottleDoc>('LoginThrottle', LoginThrottleSchema),
  };
  await Promise.all([models.User.createIndexes(), models.RefreshToken.createIndexes(), models.LoginThrottle.createIndexes()]);
  return models;
}
