import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser } from '../test/browser';
import { SECRETS_FILE } from './secrets';

/**
 * `npx tsx scripts/screenshots.ts [site]`: the README's screenshots of the admin app
 * (docs/screenshots/), taken from a running `npm start` (default http://localhost:4000) with its
 * demo data and the demo passwords in .data/secrets.json.
 */
const ROOT = path.join(__dirname, '..');
const OUT = path.join(ROOT, 'docs', 'screenshots');
const site = process.argv[2] ?? 'http://localhost:4000';
const secrets = JSON.parse(readFileSync(SECRETS_FILE, 'utf8')) as Record<string, string>;

async function signedIn(browser: Browser, email: string, password: string, phone: boolean): Promise<Page> {
  const context = await browser.newContext(
    phone ? { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : { viewport: { width: 1280, height: 800 } },
  );
  const page = await context.newPage();
  await page.goto(`${site}/`);
  await page.fill('#login-email', email);
  await page.fill('#login-password', password);
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector('#sign-out', { state: 'attached' });
  return page;
}

async function settle(page: Page): Promise<void> {
  await page.waitForLoadState('networkidle');
  await page.locator('[role=status] .spinner-border').first().waitFor({ state: 'detached' }).catch(() => undefined);
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const browser = await launchBrowser();
  try {
    const doctor = await signedIn(browser, 'doctor@healthsync.local', secrets.DEMO_PASSWORD!, false);
    await doctor.getByRole('button', { name: 'Week' }).click().catch(() => undefined);
    await settle(doctor);
    await doctor.screenshot({ path: path.join(OUT, 'appointments-week.png') });

    const admin = await signedIn(browser, 'admin@healthsync.local', secrets.DEMO_PASSWORD!, true);
    await admin.goto(`${site}/#/reports`);
    await settle(admin);
    await admin.screenshot({ path: path.join(OUT, 'reports-phone.png') });

    const pharmacist = await signedIn(browser, 'pharmacist@healthsync.local', secrets.DEMO_PASSWORD!, false);
    await settle(pharmacist);
    await pharmacist.screenshot({ path: path.join(OUT, 'prescriptions-queue.png') });
  } finally {
    await browser.close();
  }
  console.log(`screenshots written to ${path.relative(process.cwd(), OUT)}`);
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
