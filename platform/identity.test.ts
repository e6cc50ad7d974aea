import {
  bodyDigest,
  IDENTITY_HEADER,
  SIGNATURE_HEADER,
  signIdentity,
  signingKey,
  verifyIdentity,
  type ReceivedCall,
} from './identity';

const KEY = signingKey('a-test-secret-of-enough-length');
const BODY = JSON.stringify({ query: '{ patients { edges { node { id } } } }', variables: {} });

/** What the subgraph `patients` sees of a call with these headers and this body. */
function received(h: Record<string, string>, body: string | null = BODY): ReceivedCall {
  return { identity: h[IDENTITY_HEADER], signature: h[SIGNATURE_HEADER], bodyDigest: body === null ? undefined : bodyDigest(Buffer.from(body)) };
}

describe('router-signed identity', () => {
  const identity = { userId: 'u1', role: 'DOCTOR' as const, doctorId: 'd1' };

  it('round-trips an identity and the request id', () => {
    const h = signIdentity(identity, KEY, BODY, { audience: 'patients', requestId: 'req-1' });
    expect(verifyIdentity(received(h), KEY, 'patients')).toEqual({ ok: true, identity, requestId: 'req-1' });
  });

  it('carries an idempotency key inside what is signed', () => {
    const h = signIdentity(identity, KEY, BODY, { audience: 'patients', requestId: 'req-2', idempotencyKey: 'key-1' });
    expect(verifyIdentity(received(h), KEY, 'patients')).toEqual({ ok: true, identity, requestId: 'req-2', idempotencyKey: 'key-1' });
  });

  it('signs the body bytes: a string body and its UTF-8 bytes are the same call', () => {
    const body = JSON.stringify({ query: '{ x }', variables: { name: 'Zoë 🩺' } });
    const h = signIdentity(identity, KEY, body, { audience: 'patients' });
    expect(verifyIdentity(received(h, body), KEY, 'patients')).toMatchObject({ ok: true });
  });

  it('refuses a missing, forged or re-signed identity', () => {
    const h = signIdentity(identity, KEY, BODY, { audience: 'patients' });
    expect(verifyIdentity(received({}), KEY, 'patients')).toMatchObject({ ok: false, reason: 'missing router signature' });
    expect(verifyIdentity(received(h), signingKey('another-secret-of-enough-length'), 'patients')).toMatchObject({ ok: false, reason: 'invalid router signature' });
    const tampered = Buffer.from(JSON.stringify({ ...identity, role: 'SUPER_ADMIN', aud: 'patients', iat: Date.now() })).toString('base64url');
    expect(verifyIdentity(received({ ...h, [IDENTITY_HEADER]: tampered }), KEY, 'patients')).toMatchObject({ ok: false, reason: 'invalid router signature' });
    expect(verifyIdentity(received({ ...h, [SIGNATURE_HEADER]: 'AAAA' }), KEY, 'patients')).toMatchObject({ ok: false, reason: 'invalid router signature' });
  });

  it('refuses the headers with any other body, or with none', () => {
    const h = signIdentity(identity, KEY, BODY, { audience: 'patients' });
    expect(verifyIdentity(received(h, BODY.replace('id', 'name')), KEY, 'patients')).toMatchObject({ ok: false, reason: 'invalid router signature' });
    expect(verifyIdentity(received(h, `${BODY} `), KEY, 'patients')).toMatchObject({ ok: false, reason: 'invalid router signature' });
    expect(verifyIdentity(received(h, null), KEY, 'patients')).toMatchObject({ ok: false, reason: 'missing request body' });
  });

  it('refuses a call signed for another subgraph', () => {
    const h = signIdentity(identity, KEY, BODY, { audience: 'patients' });
    expect(verifyIdentity(received(h), KEY, 'appointments')).toMatchObject({ ok: false, reason: 'signed for another service' });
  });

  it('accepts a signature for 10 s and up to 1 s ahead of the clock, nothing beyond', () => {
    const now = 1_800_000_000_000;
    const at = (t: number) => signIdentity(identity, KEY, BODY, { audience: 'patients', now: t });
    expect(verifyIdentity(received(at(now - 10_000)), KEY, 'patients', now)).toMatchObject({ ok: true });
    expect(verifyIdentity(received(at(now - 10_001)), KEY, 'patients', now)).toMatchObject({ ok: false, reason: 'expired router signature' });
    expect(verifyIdentity(received(at(now - 11_000)), KEY, 'patients', now)).toMatchObject({ ok: false, reason: 'expired router signature' });
    expect(verifyIdentity(received(at(now + 1_000)), KEY, 'patients', now)).toMatchObject({ ok: true });
    expect(verifyIdentity(received(at(now + 1_001)), KEY, 'patients', now)).toMatchObject({ ok: false, reason: 'router signature from the future' });
    expect(verifyIdentity(received(at(now + 59_000)), KEY, 'patients', now)).toMatchObject({ ok: false, reason: 'router signature from the future' });
  });

  it('refuses an unknown role even when signed', () => {
    const h = signIdentity({ userId: 'u', role: 'WIZARD' as never }, KEY, BODY, { audience: 'patients' });
    expect(verifyIdentity(received(h), KEY, 'patients')).toMatchObject({ ok: false, reason: 'unknown role' });
  });
});
