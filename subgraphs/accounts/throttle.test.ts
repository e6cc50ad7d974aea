import type { Connection } from 'mongoose';
import type { Config } from '../../platform/config';
import { dropTestDatabases, openDb, testConfig } from '../../test/helpers';
import { createAccountModels, type AccountModels } from './model';
import { SignInThrottle } from './throttle';

let cfg: Config;
let conn: Connection;
let models: AccountModels;
beforeAll(async () => {
  cfg = testConfig();
  conn = await openDb(cfg, 'accounts');
  models = await createAccountModels(conn);
});
afterAll(async () => {
  await conn.close();
  await dropTestDatabases(cfg, ['accounts']);
});

describe('sign-in throttle housekeeping', () => {
  it('sweeps counters unused for a day and devices that did not sign in for 400 days, and keeps the rest', async () => {
    const throttle = new SignInThrottle(models, cfg);
    const now = Date.now();
    const day = 86_400_000;
    await models.LoginThrottle.insertMany([
      { _id: 'p:old', attempts: 7, lastAttemptAt: new Date(now - 2 * day) },
      { _id: 'p:fresh', attempts: 2, lastAttemptAt: new Date(now - 60_000) },
    ]);
    await models.KnownDevice.insertMany([
      { _id: 'd:old', lastSignInAt: new Date(now - 401 * day) },
      { _id: 'd:fresh', lastSignInAt: new Date(now - 30 * day) },
    ]);
    expect(await throttle.sweep(now)).toEqual({ counters: 1, devices: 1 });
    expect((await models.LoginThrottle.find({}, { _id: 1 }).lean()).map((d) => d._id)).toEqual(['p:fresh']);
    expect((await models.KnownDevice.find({}, { _id: 1 }).lean()).map((d) => d._id)).toEqual(['d:fresh']);
  });

  it('makes the next attempt wait after LOGIN_MAX_FAILURES, and forgets a pair that had no attempt for a day', async () => {
    const throttle = new SignInThrottle(models, { ...cfg, LOGIN_MAX_FAILURES: 2, LOGIN_CLIENT_MAX_FAILURES: 100 });
    const client = { address: '192.0.2.88' };
    await throttle.begin('forgetful@clinic.example', client);
    await throttle.begin('forgetful@clinic.example', client);
    await expect(throttle.begin('forgetful@clinic.example', client)).rejects.toMatchObject({ extensions: { code: 'RATE_LIMITED' } });
    await models.LoginThrottle.updateMany({}, { $set: { lastAttemptAt: new Date(Date.now() - 2 * 86_400_000) } });
    await expect(throttle.begin('forgetful@clinic.example', client)).resolves.toBeDefined();
    await expect(throttle.begin('forgetful@clinic.example', client)).resolves.toBeDefined();
    await expect(throttle.begin('forgetful@clinic.example', client)).rejects.toMatchObject({ extensions: { code: 'RATE_LIMITED' } });
  });

  it('gives a success back to the address counter: signing in to your own account does not feed the per-address cap', async () => {
    const throttle = new SignInThrottle(models, { ...cfg, LOGIN_CLIENT_MAX_FAILURES: 2 });
    const client = { address: '192.0.2.77', device: 'device-of-a-busy-user' };
    for (let i = 0; i < 5; i++) {
      const attempt = await throttle.begin(`user${i}@clinic.example`, client);
      await attempt.succeeded();
    }
    await expect(throttle.begin('another@clinic.example', client)).resolves.toBeDefined();
  });
});
