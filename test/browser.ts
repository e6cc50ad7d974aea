import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Where Debian's `chromium` package puts the browser. */
const DEBIAN_CHROMIUM = '/usr/bin/chromium';
/** Flags for a full desktop Chromium (CHROMIUM_PATH or Debian's) running headless in a test. */
const DESKTOP_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/**
 * @sparticuz/chromium's recommended flags (tuned for AWS Lambda) that must not reach a test browser:
 * with `--single-process` closing any browser context kills the whole browser (every later
 * `newContext` fails with "Target page, context or browser has been closed"); the other two switch
 * off the same-origin policy and mixed-content blocking, which the web app's tests must run under.
 */
const SPARTICUZ_ARGS_DROPPED = new Set(['--single-process', '--disable-web-security', '--allow-running-insecure-content']);

/**
 * A headless Chromium for the browser tests, driven by playwright-core (whose own browser download
 * is blocked here). In order: the browser at CHROMIUM_PATH if set, Debian's `chromium` at
 * /usr/bin/chromium if installed, else the headless Chromium shipped inside the npm package
 * `@sparticuz/chromium` (a devDependency), so `npm ci && npm test` needs nothing else.
 */
export async function launchBrowser(): Promise<Browser> {
  try {
    return await launchOnce();
  } catch (err) {
    // Seen once beside a second stack (2026-12-03): the bundled Chromium died with SIGSEGV while
    // starting, before any test ran. A browser that crashed starting up is started once more; any
    // other failure, or a second crash, fails the tests as before.
    if (!/process did exit|browser has been closed/i.test(String(err))) throw err;
    process.stderr.write(`test browser crashed while starting; starting it once more: ${String(err).split('\n')[0]}\n`);
    return launchOnce();
  }
}

async function launchOnce(): Promise<Browser> {
  const configured = process.env.CHROMIUM_PATH;
  if (configured) {
    if (!existsSync(configured)) throw new Error(`CHROMIUM_PATH is set to ${configured}, which does not exist`);
    return chromium.launch({ executablePath: configured, args: DESKTOP_ARGS, headless: true });
  }
  if (existsSync(DEBIAN_CHROMIUM)) {
    return chromium.launch({ executablePath: DEBIAN_CHROMIUM, args: DESKTOP_ARGS, headless: true });
  }
  // Loaded only when needed. Under ts-jest/tsc (module: commonjs) this compiles to require(), which
  // resolves the package's CommonJS build (exports "require" → build/cjs/index.cjs).
  const { default: sparticuz } = await import('@sparticuz/chromium');
  // Unpacks the bundled browser (to the OS temp dir, once) and returns its path.
  const executablePath = await sparticuz.executablePath();
  const args = sparticuz.args.filter((arg) => !SPARTICUZ_ARGS_DROPPED.has(arg));
  return chromium.launch({ executablePath, args, headless: true });
}
