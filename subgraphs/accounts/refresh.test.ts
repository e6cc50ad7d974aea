import type { Connection } from 'mongoose';
import { AUDIT_DB, auditModel } from '../../platform/audit';
import { dbName, type Config } from '../../platform/config';
import { dropTestDatabases, openDb, testConfig } from '../../test/helpers';
import { createAccountModels, type AccountModels } from './model';
import { AccountService } from './service';

let cfg: Config;
let conn: Connection;
let models: AccountModels;
let service: AccountService;
beforeAll(async () => {
  cfg = testConfig({ BCRYPT_ROUNDS: '4' });
  conn = await openDb(cfg, 'accounts');
  models = await createAccountModels(conn);
  service = new AccountService(models, await auditModel(conn, dbName(cfg, AUDIT_DB)), cfg);
  await service.bootstrapSuperAdmin();
});
afterAll(async () => {
  await conn.close();
  await dropTestDatabases(cfg, ['accounts', AUDIT_DB]);
});

const login = () => service.login(cfg.SUPERADMIN_EMAIL, cfg.SUPERADMIN_PASSWORD);
const codeOf = (err: unknown) => (err as { extensions?: { code?: string } }).extensions?.code;

describe('refresh tokens under concurrency', () => {
  it('of 20 parallel refreshes with one token exactly one gets a session (three rounds)', async () => {
    for (let round = 0; round < 3; round++) {
      const tokensBefore = await models.RefreshToken.countDocuments();
      const { refreshToken } = await login();
      const results = await Promise.allSettled(Array.from({ length: 20 }, () => service.refresh(refreshToken)));

      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(refused).toHaveLength(19);
      expect(refused.every((r) => codeOf(r.reason) === 'UNAUTHENTICATED')).toBe(true);
      // The login's token and the one new session's token; nothing else was issued.
      expect((await models.RefreshToken.countDocuments()) - tokensBefore).toBe(2);
    }
  });

  it('a used token that comes back ends every session of the user', async () => {
    const first = await login();
    const second = await service.refresh(first.refreshToken);
    await expect(service.refresh(first.refreshToken)).rejects.toThrow('This session has ended; sign in again');
    await expect(service.refresh(second.refreshToken)).rejects.toThrow('This session has ended; sign in again');
  });
});

describe('a super admin on a published default password', () => {
  it('gets SUPERADMIN_PASSWORD at start-up (sessions end); the old default no longer signs in', async () => {
    const bcrypt = (await import('bcryptjs')).default;
    const old = await models.User.create({ email: 'old.admin@clinic.example', passwordHash: await bcrypt.hash('ChangeMe-SuperAdmin-1', 4), role: 'SUPER_ADMIN', active: true });
    const session = await service.login('old.admin@clinic.example', 'ChangeMe-SuperAdmin-1');
    expect(await service.replacePublishedSuperAdminPasswords()).toEqual(['old.admin@clinic.example']);
    await expect(service.login('old.admin@clinic.example', 'ChangeMe-SuperAdmin-1')).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
    await expect(service.refresh(session.refreshToken)).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
    await expect(service.login('old.admin@clinic.example', cfg.SUPERADMIN_PASSWORD)).resolves.toMatchObject({ user: { _id: old._id } });
    // The configured super admin's own password is not a published one: left alone.
    expect(await service.replacePublishedSuperAdminPasswords()).toEqual([]);
  });
});
