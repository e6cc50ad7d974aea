import { IDENTITY_HEADER, SIGNATURE_HEADER, signIdentity, verifyIdentity } from './identity';

const SECRET = 'a-test-secret-of-enough-length';

describe('router-signed identity', () => {
  const identity = { userId: 'u1', role: 'DOCTOR' as const, doctorId: 'd1' };

  it('round-trips an identity and the request id', () => {
    const h = signIdentity(identity, SECRET, 'req-1');
    const v = verifyIdentity(h[IDENTITY_HEADER], h[SIGNATURE_HEADER], SECRET);
    expect(v).toEqual({ ok: true, identity, requestId: 'req-1' });
  });

  it('carries an idempotency key inside what is signed', () => {
    const h = signIdentity(identity, SECRET, 'req-2', Date.now(), 'key-1');
    expect(verifyIdentity(h[IDENTITY_HEADER], h[SIGNATURE_HEADER], SECRET)).toEqual({ ok: true, identity, requestId: 'req-2', idempotencyKey: 'key-1' });
  });

  it('refuses a missing, forged or re-signed identity', () => {
    const h = signIdentity(identity, SECRET);
    expect(verifyIdentity(undefined, undefined, SECRET)).toMatchObject({ ok: false, reason: 'missing router signature' });
    expect(verifyIdentity(h[IDENTITY_HEADER], h[SIGNATURE_HEADER], 'another-secret-of-enough-length')).toMatchObject({ ok: false });
    const tampered = Buffer.from(JSON.stringify({ ...identity, role: 'SUPER_ADMIN', iat: Date.now() })).toString('base64url');
    expect(verifyIdentity(tampered, h[SIGNATURE_HEADER], SECRET)).toMatchObject({ ok: false, reason: 'invalid router signature' });
  });

  it('refuses a signature older than a minute (replay)', () => {
    const h = signIdentity(identity, SECRET, undefined, Date.now() - 120_000);
    expect(verifyIdentity(h[IDENTITY_HEADER], h[SIGNATURE_HEADER], SECRET)).toMatchObject({ ok: false, reason: 'expired router signature' });
  });

  it('refuses an unknown role even when signed', () => {
    const h = signIdentity({ userId: 'u', role: 'WIZARD' as never }, SECRET);
    expect(verifyIdentity(h[IDENTITY_HEADER], h[SIGNATURE_HEADER], SECRET)).toMatchObject({ ok: false, reason: 'unknown role' });
  });
});
