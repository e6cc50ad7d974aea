import path from 'node:path';
import express from 'express';

export const WEB_DIR = path.join(__dirname, '..', 'web');
const BOOTSTRAP_CSS = require.resolve('bootstrap/dist/css/bootstrap.min.css');

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

/**
 * The admin web app (web/): static files at `/`, Bootstrap's stylesheet from the installed
 * package at `/vendor/bootstrap.min.css`. It holds no data of its own: every figure comes from
 * the graph at `/graphql` with the signed-in user's token, so the access rules apply unchanged.
 */
export function mountWebApp(app: express.Express): void {
  app.get('/vendor/bootstrap.min.css', webHeaders, (_req, res) => res.sendFile(BOOTSTRAP_CSS));
  app.use('/', webHeaders, express.static(WEB_DIR, { index: 'index.html', fallthrough: true }));
}
