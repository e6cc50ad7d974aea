import { signAccessToken } from '../platform/jwt';
import { randomSecret } from '../scripts/secrets';
import { waitFor } from '../test/helpers';
import { identityFromAuthorization } from './auth';

/** Access tokens as the router reads them (verified ones are remembered until they expire). */
const secret = randomSecret('JWT_SECRET');
const nurse = { userId: '0000000000000000000000a1', role: 'NURSE' as const };
const refusal = (authorization: string, jwtSecret = secret) => identityFromAuthorization(authorization, jwtSecret).then(() => 'accepted', (err: Error) => err.message);

describe('identityFromAuthorization', () => {
  it('gives the same identity for a token it verified before, and an independent copy each time', async () => {
    const { token } = await signAccessToken(nurse, secret, 900);
    const first = await identityFromAuthorization(`Bearer ${token}`, secret);
    first.role = 'SUPER_ADMIN';
    expect(await identityFromAuthorization(`Bearer ${token}`, secret)).toEqual(nurse);
  });

  it('refuses a remembered token once it expired, and a token verified with another secret', async () => {
    const { token } = await signAccessToken(nurse, secret, 2); // at least 1 s left
    expect(await identityFromAuthorization(`Bearer ${token}`, secret)).toEqual(nurse);
    expect(await refusal(`Bearer ${token}`, randomSecret('JWT_SECRET'))).toMatch(/not valid/);
    await waitFor(async () => /expired/.test(await refusal(`Bearer ${token}`)), 5_000);
  });

  it('refuses forged and malformed tokens every time', async () => {
    const { token } = await signAccessToken(nurse, randomSecret('JWT_SECRET'), 900);
    expect(await refusal(`Bearer ${token}`)).toMatch(/not valid/);
    expect(await refusal(`Bearer ${token}`)).toMatch(/not valid/);
    expect(await refusal(token)).toMatch(/must be "Bearer/);
  });
});
