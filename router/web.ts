import { existsSync } from 'node:fs';
import path from 'node:path';
import express from 'express';

/** The built admin app (`vite build web`; npm start, npm test and npm run build make it). */
export const WEB_DIR = path.join(__dirname, '..', 'web', 'dist');

/**
 * Strict headers for the admin app: scripts and styles only from this origin (no inline code, so
 * an injected `<script>` cannot run), GraphQL over HTTP and WebSocket to this origin only, never
 * framed, no referrer leaving the clinic.
 */
const webHeaders: express.RequestHandler = (_req, res, next) => {
  res.setHeader(
    'Content-Security-Policy',
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  );
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
  next();
};

/** Hashed bundle names (assets/index-<hash>.js) never change content: cache them for a year. */
const immutableAssets = (res: express.Response, file: string) => {
  if (file.includes(`${path.sep}assets${path.sep}`)) res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
  else res.setHeader('Cache-Control', 'no-cache');
};

/**
 * The admin web app (web/dist, React + Apollo Client, built by Vite) at `/`. It holds no data of
 * its own: every figure comes from the graph at `/graphql` with the signed-in user's token, so the
 * access rules apply unchanged. Without a build, `/` says how to make one instead of a bare 404.
 */
export function mountWebApp(app: express.Express): void {
  app.use('/', webHeaders, express.static(WEB_DIR, { index: 'index.html', fallthrough: true, setHeaders: immutableAssets }));
  app.get('/', webHeaders, (_req, res) => {
    if (existsSync(path.join(WEB_DIR, 'index.html'))) res.sendFile(path.join(WEB_DIR, 'index.html'));
    else res.status(503).type('text/plain').send('The admin web app is not built: run `npm run build:web` (npm start does it for you).\n');
  });
}
