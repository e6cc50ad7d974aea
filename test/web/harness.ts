import { readFileSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { accountsSubgraph } from '../../subgraphs/accounts/index';
import { analyticsSubgraph } from '../../subgraphs/analytics/index';
import { appointmentsSubgraph } from '../../subgraphs/appointments/index';
import { doctorsSubgraph } from '../../subgraphs/doctors/index';
import { medicationsSubgraph } from '../../subgraphs/medications/index';
import { notificationsSubgraph } from '../../subgraphs/notifications/index';
import { patientsSubgraph } from '../../subgraphs/patients/index';
import { startRouter, type RunningRouter } from '../../router/server';
import { WEB_OPERATIONS_FILE } from '../../scripts/webOperations';
import { launchBrowser } from '../browser';
import { silentLog, startTestGraph, type TestGraph } from '../helpers';

/**
 * The admin web app in a real browser (headless Chromium driven by playwright-core; ../browser.ts
 * says which one) against the real router, every subgraph and the database. The router the browser
 * talks to runs with TRUSTED_DOCUMENTS=schema/web-operations.json, as production may: every
 * document the app sends must be in its manifest. Fixtures go through the graph's other router.
 */
export const ZONE = 'Europe/Berlin';
export const WEEK = ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'] as const;
export const PASSWORD = 'web-test-password-123';

export type RoleName = 'SUPER_ADMIN' | 'ADMIN' | 'DOCTOR' | 'NURSE' | 'PHARMACIST' | 'PATIENT';
export const VIEWPORTS = {
  desktop: { viewport: { width: 1280, height: 800 } },
  phone: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 },
} as const;
export type ViewportName = keyof typeof VIEWPORTS;

export interface WebStack {
  graph: TestGraph;
  /** The site the browser opens (router with trusted documents). */
  base: string;
  /** Super admin token for fixtures through the graph. */
  admin: string;
  /** The doctor and patient the role users are linked to. */
  doctor: { id: string; name: string };
  patient: { id: string; name: string };
  /** Email of the user of each role (password PASSWORD; the super admin's from the config). */
  emails: Record<RoleName, string>;
  password(role: RoleName): string;
  /** Fixture call through the graph as the super admin; throws on errors. */
  fixture<T>(query: string, variables?: Record<string, unknown>): Promise<T>;
}

export interface OpenPage {
  page: Page;
  context: BrowserContext;
  /** Script errors, console errors (CSP violations included) and failed GraphQL answers seen so far. */
  problems: string[];
}

let browser: Browser | undefined;
let trusted: RunningRouter | undefined;

/** Starts the graph, the trusted router, the browser and one user per role (for a whole test file). */
export async function startWebStack(): Promise<WebStack> {
  const graph = await startTestGraph([accountsSubgraph, patientsSubgraph, doctorsSubgraph, appointmentsSubgraph, medicationsSubgraph, notificationsSubgraph, analyticsSubgraph]);
  try {
    return await setUp(graph);
  } catch (err) {
    // What did start is stopped: servers left running by a failed set-up keep jest from exiting.
    await stopWebStack({ graph });
    throw err;
  }
}

async function setUp(graph: TestGraph): Promise<WebStack> {
  const subgraphUrls = Object.fromEntries(Object.values(graph.subgraphs).map((s) => [s.name, s.url]));
  trusted = await startRouter({ port: 0, config: { ...graph.cfg, TRUSTED_DOCUMENTS: [WEB_OPERATIONS_FILE] }, logger: silentLog, subgraphUrls });
  const admin = await graph.login(graph.cfg.SUPERADMIN_EMAIL, graph.cfg.SUPERADMIN_PASSWORD);
  const fixture = async <T>(query: string, variables: Record<string, unknown> = {}): Promise<T> => {
    const res = await graph.as<T>(admin, query, variables);
    if (res.errors || !res.data) throw new Error(`fixture failed: ${JSON.stringify(res.errors)}`);
    return res.data;
  };
  const { createDoctor: doctor } = await fixture<{ createDoctor: { id: string; name: string } }>(
    `mutation D($i: CreateDoctorInput!) { createDoctor(input: $i) { id name } }`,
    { i: { firstName: 'Grace', lastName: 'Webb', specialty: 'Cardiology', timeZone: ZONE, weeklySchedule: WEEK.map((weekday) => ({ weekday, start: '08:00', end: '18:00', slotMinutes: 30 })) } },
  );
  const { registerPatient: patient } = await fixture<{ registerPatient: { id: string; name: string } }>(
    `mutation P($i: RegisterPatientInput!) { registerPatient(input: $i) { id name } }`,
    { i: { firstName: 'Wanda', lastName: 'Browser', dateOfBirth: '1975-04-02', sex: 'FEMALE', email: 'wanda@example.org', allergies: ['Penicillin'] } },
  );
  const emails = { SUPER_ADMIN: graph.cfg.SUPERADMIN_EMAIL } as Record<RoleName, string>;
  for (const role of ['ADMIN', 'DOCTOR', 'NURSE', 'PHARMACIST', 'PATIENT'] as const) {
    emails[role] = `${role.toLowerCase()}.web@example.org`;
    await fixture(`mutation U($i: CreateUserInput!) { createUser(input: $i) { id } }`, {
      i: { email: emails[role], password: PASSWORD, role, ...(role === 'DOCTOR' ? { doctorId: doctor.id } : {}), ...(role === 'PATIENT' ? { patientId: patient.id } : {}) },
    });
  }
  browser = await launchBrowser();
  return {
    graph,
    base: trusted.url.replace(/\/graphql$/, ''),
    admin,
    doctor,
    patient,
    emails,
    password: (role) => (role === 'SUPER_ADMIN' ? graph.cfg.SUPERADMIN_PASSWORD : PASSWORD),
    fixture,
  };
}

export async function stopWebStack(stack: Pick<WebStack, 'graph'> | undefined): Promise<void> {
  await browser?.close();
  await trusted?.stop();
  browser = undefined;
  trusted = undefined;
  await stack?.graph.stop();
}

/** A fresh tab (own sessionStorage) at a viewport, in the clinic's zone, collecting problems. */
export async function openApp(stack: WebStack, viewport: ViewportName = 'desktop'): Promise<OpenPage> {
  if (!browser) throw new Error('startWebStack first');
  // Reduced motion: Bootstrap then switches off its colour transitions, so the accessibility check
  // never measures a button halfway between two colours.
  const context = await browser.newContext({ ...VIEWPORTS[viewport], timezoneId: ZONE, locale: 'en-GB', reducedMotion: 'reduce' });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console: ${msg.text()}`);
  });
  await page.goto(`${stack.base}/`);
  return { page, context, problems };
}

/** A fresh tab signed in as the user of `role` (the menu shows). */
export async function openAs(stack: WebStack, role: RoleName, viewport: ViewportName = 'desktop'): Promise<OpenPage> {
  const open = await openApp(stack, viewport);
  await open.page.fill('#login-email', stack.emails[role]);
  await open.page.fill('#login-password', stack.password(role));
  await open.page.click('#login-form button[type=submit]');
  await open.page.waitForSelector('#sign-out', { state: 'attached' });
  return open;
}

/** Opens a menu entry by its label, through the collapsed menu on a phone. */
export async function go(page: Page, label: string | RegExp): Promise<void> {
  const toggler = page.locator('.navbar-toggler');
  if (await toggler.isVisible()) {
    if ((await toggler.getAttribute('aria-expanded')) !== 'true') await toggler.click();
  }
  await page.locator('#nav').getByRole('link', { name: label }).click();
}

const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** Serious and critical accessibility violations (axe-core, WCAG 2 A/AA rules) on the page as it is. */
export async function accessibilityViolations(page: Page): Promise<string[]> {
  // Evaluated through the DevTools protocol: the page's CSP (no inline script) does not apply.
  await page.evaluate(AXE_SOURCE);
  const found = (await page.evaluate(`axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }).then((r) => r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id + ': ' + v.help + ' (' + v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ') + ')'))`)) as string[];
  return found;
}

/** How far the page is wider than its viewport (0 = nothing cut off, no sideways scrolling). */
export async function horizontalOverflow(page: Page): Promise<number> {
  return (await page.evaluate('document.documentElement.scrollWidth - window.innerWidth')) as number;
}

/**
 * What a reviewer checks on every view: no serious/critical accessibility violation, nothing wider
 * than the screen, no script or console error. Returns the list of what is wrong ([] = fine).
 */
export async function reviewProblems(open: OpenPage): Promise<string[]> {
  const found = [...open.problems];
  const overflow = await horizontalOverflow(open.page);
  if (overflow > 0) {
    // Name the deepest elements that reach past the right edge, to say what is cut off.
    const culprits = (await open.page.evaluate(
      `[...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1 && ![...e.children].some((c) => c.getBoundingClientRect().right > window.innerWidth + 1)).slice(0, 3).map((e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className && typeof e.className === 'string' ? '.' + e.className.trim().split(/\\s+/).join('.') : '') + ' "' + (e.textContent || '').trim().slice(0, 30) + '"')`,
    )) as string[];
    found.push(`page ${overflow}px wider than the viewport: ${culprits.join(', ')}`);
  }
  found.push(...(await accessibilityViolations(open.page)));
  return found;
}

/** yyyy-mm-dd of today + n days in the clinic's zone. */
export function clinicDate(daysFromToday = 0): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: ZONE }).format(new Date(Date.now() + daysFromToday * 86_400_000));
}
