import { createHmac, randomBytes } from 'node:crypto';
import { isIPv6 } from 'node:net';
import { macMatches } from './identity';

/**
 * Who the client of a request is, as far as the router can tell: its network address and the
 * device it calls from. Sign-in throttling (subgraphs/accounts/throttle.ts) keys on it.
 *
 * - `address`: the peer address, or the X-Forwarded-For address a proxy listed in TRUST_PROXY
 *   reported (Express's `req.ip` under `trust proxy` = TRUST_PROXY). An IPv6 address counts as its
 *   /64 network: one subscriber usually has the whole /64.
 * - `device`: a random id the router gives every client in an HttpOnly cookie (signed with
 *   INTERNAL_SECRET, so only ids it issued are believed). It says nothing by itself: the accounts
 *   service remembers which devices signed in to which email successfully.
 *
 * The router sends it to subgraphs in a header signed with INTERNAL_SECRET and bound to the
 * identity header of the same call; subgraphs take it only together with a valid identity.
 */
export interface ClientInfo {
  address: string;
  device?: string;
}

export const CLIENT_HEADER = 'x-healthsync-client';
export const DEVICE_COOKIE = 'hs_device';
const DEVICE_COOKIE_MAX_AGE_S = 400 * 86_400;

const mac = (secret: string, purpose: string, ...parts: string[]): Buffer =>
  createHmac('sha256', secret).update(`healthsync-${purpose}`).update(parts.map((p) => `\n${p}`).join('')).digest();

/** The throttling key of an address: IPv4 as is, IPv6 as its /64 (IPv4-mapped IPv6 as IPv4). */
export function addressKey(ip: string | undefined): string {
  if (!ip) return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1];
  if (!isIPv6(ip)) return ip;
  const [head, tail = ''] = ip.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups
    .slice(0, 4)
    .map((g) => parseInt(g || '0', 16).toString(16))
    .join(':')}::/64`;
}

// ---- the device cookie (router) ------------------------------------------------------------

function deviceMac(secret: string, id: string): string {
  return mac(secret, 'device', id).subarray(0, 16).toString('base64url');
}

/** The device id of a signed cookie value the router issued, else undefined. */
export function deviceFromCookie(cookieHeader: string | undefined, secret: string): string | undefined {
  if (!cookieHeader) return undefined;
  for (const part of cookieHeader.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== DEVICE_COOKIE) continue;
    const [id, sig] = part.slice(eq + 1).trim().split('.');
    if (id && sig && /^[\w-]{22}$/.test(id) && macMatches(sig, mac(secret, 'device', id).subarray(0, 16))) return id;
  }
  return undefined;
}

/** A new device id and the Set-Cookie value that gives it to the client. */
export function newDeviceCookie(secret: string, secure: boolean): { device: string; setCookie: string } {
  const device = randomBytes(16).toString('base64url');
  const attrs = [`${DEVICE_COOKIE}=${device}.${deviceMac(secret, device)}`, 'Path=/graphql', `Max-Age=${DEVICE_COOKIE_MAX_AGE_S}`, 'HttpOnly', 'SameSite=Strict'];
  if (secure) attrs.push('Secure');
  return { device, setCookie: attrs.join('; ') };
}

// ---- router → subgraph -----------------------------------------------------------------------

/** The client header of a call whose identity header value is `identityHeader`. */
export function signClient(client: ClientInfo, secret: string, identityHeader: string): string {
  const encoded = Buffer.from(JSON.stringify(client)).toString('base64url');
  return `${encoded}.${mac(secret, 'client', identityHeader, encoded).toString('base64url')}`;
}

/** The client the router vouched for in this call, or undefined (missing, forged, or another call's). */
export function verifyClient(header: string | undefined, secret: string, identityHeader: string | undefined): ClientInfo | undefined {
  if (!header || !identityHeader) return undefined;
  const [encoded, sig, ...rest] = header.split('.');
  if (!encoded || !sig || rest.length || !macMatches(sig, mac(secret, 'client', identityHeader, encoded))) return undefined;
  try {
    const value = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8')) as Partial<ClientInfo> | null;
    if (!value || typeof value.address !== 'string') return undefined;
    return { address: value.address, ...(typeof value.device === 'string' ? { device: value.device } : {}) };
  } catch {
    return undefined;
  }
}
