// The graph, as the admin app sees it: one POST endpoint, one WebSocket, the signed-in session.

import { LOGIN, LOGOUT, REFRESH_SESSION } from './operations.js';

const ENDPOINT = '/graphql';
const SESSION_KEY = 'healthsync.session';

/** A GraphQL error with its stable code (extensions.code), e.g. CONFLICT or BAD_USER_INPUT. */
export class GraphError extends Error {
  constructor(message, code) {
    super(message);
    this.code = code;
  }
}

// Kept for the tab's life only (sessionStorage): closing the tab signs out.
export const session = {
  get() {
    const raw = sessionStorage.getItem(SESSION_KEY);
    return raw ? JSON.parse(raw) : null;
  },
  set(value) {
    if (value) sessionStorage.setItem(SESSION_KEY, JSON.stringify(value));
    else sessionStorage.removeItem(SESSION_KEY);
  },
};

async function post(query, variables, token, idempotencyKey) {
  const headers = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
  let res;
  try {
    res = await fetch(ENDPOINT, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  } catch {
    throw new GraphError('The server cannot be reached; check the connection and try again', 'NETWORK');
  }
  const body = await res.json().catch(() => null);
  if (!body) throw new GraphError(`The server answered ${res.status} without a GraphQL result`, 'BAD_RESPONSE');
  return body;
}

function firstError(body) {
  const e = body.errors && body.errors[0];
  return e ? new GraphError(e.message, (e.extensions && e.extensions.code) || 'ERROR') : null;
}

let renewing = null;
async function renew() {
  const current = session.get();
  if (!current) return false;
  renewing ??= post(REFRESH_SESSION, { t: current.refreshToken })
    .then((body) => {
      if (body.errors || !body.data) return false;
      session.set(body.data.refreshSession);
      return true;
    })
    .finally(() => (renewing = null));
  return renewing;
}

/** Answers that leave a mutation's outcome open: with an Idempotency-Key, asking again is safe. */
const OUTCOME_UNKNOWN = new Set(['NETWORK', 'BAD_RESPONSE', 'SUBGRAPH_UNAVAILABLE', 'INTERNAL_SERVER_ERROR']);
const RETRIES = 2;

async function gqlOnce(query, variables, idempotencyKey) {
  let body = await post(query, variables, session.get()?.accessToken, idempotencyKey);
  let err = firstError(body);
  if (err && err.code === 'UNAUTHENTICATED' && (await renew())) {
    body = await post(query, variables, session.get()?.accessToken, idempotencyKey);
    err = firstError(body);
  }
  if (err) {
    if (err.code === 'UNAUTHENTICATED') window.dispatchEvent(new Event('healthsync:signed-out'));
    throw err;
  }
  return body.data;
}

/**
 * Runs an operation as the signed-in user; renews the session once when the token expired. A
 * mutation given an `idempotencyKey` (README "Idempotent mutations") is sent again with the same
 * key, twice at most, when the answer left its outcome open; the router answers a repeat with
 * the first outcome, so nothing is done twice.
 */
export async function gql(query, variables = {}, { idempotencyKey } = {}) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await gqlOnce(query, variables, idempotencyKey);
    } catch (err) {
      if (!idempotencyKey || !OUTCOME_UNKNOWN.has(err.code) || attempt >= RETRIES) throw err;
      await new Promise((resolve) => setTimeout(resolve, 1000 * (attempt + 1)));
    }
  }
}

/** A new Idempotency-Key; also where crypto.randomUUID is missing (a page not served over HTTPS or localhost). */
export function newIdempotencyKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * One Idempotency-Key per user action. `run(action, send)` calls `send(key)`; the same action
 * sent again after an answer that left its outcome open (the user presses the button once more)
 * reuses the key, so a booking or a dispensing that did go through is not done twice. Any other
 * answer ends the action: the next one gets a new key.
 */
export function idempotentAction() {
  let current = null;
  return async function run(action, send) {
    const id = JSON.stringify(action);
    if (!current || current.id !== id) current = { id, key: newIdempotencyKey() };
    const mine = current;
    try {
      const result = await send(mine.key);
      if (current === mine) current = null;
      return result;
    } catch (err) {
      if (current === mine && !OUTCOME_UNKNOWN.has(err.code)) current = null;
      throw err;
    }
  };
}

export async function signIn(email, password) {
  const body = await post(LOGIN, { e: email, p: password });
  const err = firstError(body);
  if (err) throw err;
  session.set(body.data.login);
  return body.data.login;
}

export async function signOut() {
  const current = session.get();
  session.set(null);
  if (current) await post(LOGOUT, { t: current.refreshToken }, current.accessToken).catch(() => undefined);
}

/**
 * A live subscription over graphql-ws (the `graphql-transport-ws` protocol) on the same URL.
 * Returns a function that stops it. Reconnects after a dropped connection while signed in.
 */
export function subscribe(query, onData, onError) {
  let socket = null;
  let stopped = false;
  const open = () => {
    const current = session.get();
    if (!current || stopped) return;
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${ENDPOINT}`;
    socket = new WebSocket(url, 'graphql-transport-ws');
    socket.onopen = () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${current.accessToken}` } }));
    socket.onmessage = (msg) => {
      const m = JSON.parse(msg.data);
      if (m.type === 'connection_ack') socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query } }));
      else if (m.type === 'ping') socket.send(JSON.stringify({ type: 'pong' }));
      else if (m.type === 'next' && m.payload.data) onData(m.payload.data);
      else if (m.type === 'next' && m.payload.errors) onError(firstError(m.payload));
      else if (m.type === 'error') onError(new GraphError(m.payload[0]?.message ?? 'Subscription refused', m.payload[0]?.extensions?.code ?? 'ERROR'));
    };
    socket.onclose = (ev) => {
      if (stopped) return;
      // 4401/4403: the token was refused; renew it once, then try again.
      if (ev.code === 4401 || ev.code === 4403) renew().then((ok) => ok && setTimeout(open, 500));
      else setTimeout(open, 3000);
    };
  };
  open();
  return () => {
    stopped = true;
    socket?.close(1000);
  };
}
