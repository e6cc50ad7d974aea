import type { Browser, Page } from 'playwright-core';
import { accountsSubgraph } from '../subgraphs/accounts/index';
import { analyticsSubgraph } from '../subgraphs/analytics/index';
import { appointmentsSubgraph } from '../subgraphs/appointments/index';
import { doctorsSubgraph } from '../subgraphs/doctors/index';
import { notificationsSubgraph } from '../subgraphs/notifications/index';
import { patientsSubgraph } from '../subgraphs/patients/index';
import { startRouter, type RunningRouter } from '../router/server';
import { WEB_OPERATIONS_FILE } from '../scripts/webOperations';
import { launchBrowser } from './browser';
import { silentLog, startTestGraph, waitFor, type TestGraph } from './helpers';

/**
 * The admin web app in a real browser (headless Chromium driven by playwright-core; see
 * ./browser.ts for which one) against the real router, subgraphs and database. The router the
 * browser talks to runs with TRUSTED_DOCUMENTS=schema/web-operations.json, as production may: every
 * document the app sends must be in its manifest (fixtures go through the graph's other router).
 */
const ZONE = 'Europe/Berlin';
const WEEK = ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'];
const STAFF_PASSWORD = 'nurse-password-123';

let graph: TestGraph;
let trusted: RunningRouter;
let browser: Browser;
let base: string;
let admin: string;
let doctor: { id: string; name: string };
let patient: { id: string; name: string };

beforeAll(async () => {
  graph = await startTestGraph([accountsSubgraph, patientsSubgraph, doctorsSubgraph, appointmentsSubgraph, notificationsSubgraph, analyticsSubgraph]);
  const subgraphUrls = Object.fromEntries(Object.values(graph.subgraphs).map((s) => [s.name, s.url]));
  trusted = await startRouter({ port: 0, config: { ...graph.cfg, TRUSTED_DOCUMENTS: [WEB_OPERATIONS_FILE] }, logger: silentLog, subgraphUrls });
  base = trusted.url.replace(/\/graphql$/, '');
  admin = await graph.login(graph.cfg.SUPERADMIN_EMAIL, graph.cfg.SUPERADMIN_PASSWORD);
  const d = await graph.as<{ createDoctor: { id: string; name: string } }>(admin, `mutation D($i: CreateDoctorInput!) { createDoctor(input: $i) { id name } }`, {
    i: { firstName: 'Grace', lastName: 'Webb', specialty: 'Cardiology', timeZone: ZONE, weeklySchedule: WEEK.map((weekday) => ({ weekday, start: '08:00', end: '18:00', slotMinutes: 30 })) },
  });
  doctor = d.data!.createDoctor;
  const p = await graph.as<{ registerPatient: { id: string; name: string } }>(admin, `mutation P($i: RegisterPatientInput!) { registerPatient(input: $i) { id name } }`, {
    i: { firstName: 'Wanda', lastName: 'Browser', dateOfBirth: '1975-04-02', sex: 'FEMALE', email: 'wanda@example.org', allergies: ['Penicillin'] },
  });
  patient = p.data!.registerPatient;
  browser = await launchBrowser();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await trusted?.stop();
  await graph?.stop();
});

/** A fresh tab (own sessionStorage) in the clinic's zone, collecting script errors. */
async function openApp(): Promise<{ page: Page; scriptErrors: string[] }> {
  const context = await browser.newContext({ timezoneId: ZONE, locale: 'en-GB' });
  const page = await context.newPage();
  const scriptErrors: string[] = [];
  page.on('pageerror', (err) => scriptErrors.push(err.message));
  await page.goto(`${base}/`);
  return { page, scriptErrors };
}

async function signIn(page: Page, email: string, password: string): Promise<void> {
  await page.fill('#login-email', email);
  await page.fill('#login-password', password);
  await page.click('#login-form button[type=submit]');
}

/** A fresh tab, signed in (the navigation shows). */
async function openSignedIn(email: string, password: string): Promise<{ page: Page; scriptErrors: string[] }> {
  const app = await openApp();
  await signIn(app.page, email, password);
  await app.page.waitForSelector('#nav:not([hidden])');
  return app;
}

/** yyyy-mm-dd of tomorrow in the clinic's zone. */
function tomorrow(): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: ZONE }).format(new Date(Date.now() + 86_400_000));
}

describe('admin web app', () => {
  it('is served by the router with a strict content security policy', async () => {
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    const css = await fetch(`${base}/vendor/bootstrap.min.css`);
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toMatch(/text\/css/);
    expect((await css.text()).length).toBeGreaterThan(100_000);
  });

  it('refuses a wrong password with the graph error, then signs in', async () => {
    const { page, scriptErrors } = await openApp();
    await signIn(page, graph.cfg.SUPERADMIN_EMAIL, 'not-the-password');
    await page.waitForSelector('#alert:not([hidden])');
    expect(await page.textContent('#alert')).toContain('UNAUTHENTICATED');
    expect(await page.isVisible('#nav')).toBe(false);
    await signIn(page, graph.cfg.SUPERADMIN_EMAIL, graph.cfg.SUPERADMIN_PASSWORD);
    await page.waitForSelector('#nav:not([hidden])');
    expect(await page.textContent('#who')).toContain('super admin');
    expect(scriptErrors).toEqual([]);
    await page.context().close();
  });

  it('books a free slot, shows it on the day, pushes the confirmation live, and cancels it', async () => {
    const { page, scriptErrors } = await openSignedIn(graph.cfg.SUPERADMIN_EMAIL, graph.cfg.SUPERADMIN_PASSWORD);

    await page.click('a[data-view=book]');
    await page.fill('#book-patient-search', 'Wanda');
    await page.waitForSelector(`#book-patient option[value="${patient.id}"]`, { state: 'attached' });
    await page.selectOption('#book-patient', patient.id);
    await page.waitForSelector(`#book-doctor option[value="${doctor.id}"]`, { state: 'attached' });
    await page.selectOption('#book-doctor', doctor.id);
    await page.fill('#book-day', tomorrow());
    await page.dispatchEvent('#book-day', 'change');
    // Free slots of the doctor's 08:00–18:00 day, shown in the clinic's zone.
    await page.locator('#book-slot option[value^="{"]').first().waitFor({ state: 'attached' });
    const firstSlot = await page.textContent('#book-slot option');
    expect(firstSlot).toBe('08:00–08:30');
    await page.fill('#book-reason', 'Palpitations');
    await page.click('#book-form button[type=submit]');
    await page.waitForSelector('#notice:not([hidden])');
    expect(await page.textContent('#notice')).toContain(`Booked ${patient.name} with ${doctor.name}`);

    // The booking is in the graph, and the slot is no longer offered.
    const booked = await graph.as<{ appointments: { edges: { node: { id: string; reason: string; status: string } }[] } }>(
      admin,
      `query A($p: ObjectID!) { appointments(filter: { patientId: $p }) { edges { node { id reason status } } } }`,
      { p: patient.id },
    );
    const [appointment] = booked.data!.appointments.edges.map((e) => e.node);
    expect(appointment).toMatchObject({ reason: 'Palpitations', status: 'SCHEDULED' });
    await page.locator('#book-slot option', { hasText: '08:00–08:30' }).waitFor({ state: 'detached' });

    // The confirmation arrives over graphql-ws while another view is open.
    await waitFor(async () => (await page.textContent('#live-count'))?.trim() !== '0' && (await page.isVisible('#live-count')), 15_000);
    await page.click('a[data-view=notifications]');
    await page.waitForSelector('#notification-list li');
    expect(await page.textContent('#notification-list')).toContain('appointment confirmed');

    // The day view lists it; cancelling asks for a reason in the row.
    await page.click('a[data-view=appointments]');
    await page.fill('#day', tomorrow());
    await page.dispatchEvent('#day', 'change');
    const row = `#appointment-rows tr[data-id="${appointment.id}"]`;
    await page.waitForSelector(row);
    expect(await page.textContent(row)).toContain('Wanda Browser');
    await page.click(`${row} button.btn-outline-danger`);
    await page.fill(`${row} input`, 'Patient called in sick');
    await page.click(`${row} button[type=submit]`);
    await page.waitForSelector('#notice:not([hidden])');
    await page.locator(row, { hasText: 'cancelled' }).waitFor();
    const after = await graph.as<{ appointment: { status: string; cancellationReason: string } }>(admin, `{ appointment(id: "${appointment.id}") { status cancellationReason } }`);
    expect(after.data!.appointment).toEqual({ status: 'CANCELLED', cancellationReason: 'Patient called in sick' });
    expect(scriptErrors).toEqual([]);
    await page.context().close();
  }, 60_000);

  it('recomputes the reports on request and shows them, with the doctor named through federation', async () => {
    const { page, scriptErrors } = await openSignedIn(graph.cfg.SUPERADMIN_EMAIL, graph.cfg.SUPERADMIN_PASSWORD);
    await page.click('a[data-view=reports]');
    await page.fill('#report-from', '2025-01-01');
    await page.fill('#report-to', '2028-12-31');
    await page.click('#report-refresh');
    // The notice comes once the recomputed figures are on the page.
    await page.waitForSelector('#notice:not([hidden])');
    expect(await page.textContent('#report-computed')).toMatch(/^Figures computed/);
    // The appointment booked above (cancelled since) counts for Dr. Webb.
    expect(await page.textContent('#report-doctors')).toContain(doctor.name);
    expect(await page.textContent('#report-average-detail')).toBe('1 appointments, 1 patients');
    expect(scriptErrors).toEqual([]);
    await page.context().close();
  }, 30_000);

  it('shows patient data as text only: markup in a name cannot run', async () => {
    const hostile = '<img src=x onerror="window.pwned=1">';
    const res = await graph.as<{ registerPatient: { id: string } }>(admin, `mutation P($i: RegisterPatientInput!) { registerPatient(input: $i) { id } }`, {
      i: { firstName: hostile, lastName: 'Script', dateOfBirth: '1990-01-01', sex: 'MALE' },
    });
    const id = res.data!.registerPatient.id;
    const { page, scriptErrors } = await openSignedIn(graph.cfg.SUPERADMIN_EMAIL, graph.cfg.SUPERADMIN_PASSWORD);
    await page.click('a[data-view=patients]');
    await page.click(`#patient-list [data-id="${id}"]`);
    await page.waitForSelector('#patient-detail h2');
    expect(await page.textContent('#patient-detail h2')).toBe(`${hostile} Script`);
    expect(await page.locator('#patient-detail img, #patient-list img').count()).toBe(0);
    // Page code as a string: the test's own TypeScript has no DOM types.
    expect(await page.evaluate('window.pwned')).toBeUndefined();
    expect(scriptErrors).toEqual([]);
    await page.context().close();
  });

  it('offers a nurse the clinical views only, and the graph refuses the rest anyway', async () => {
    const created = await graph.as(admin, `mutation U($i: CreateUserInput!) { createUser(input: $i) { id } }`, {
      i: { email: 'nurse.web@example.org', password: STAFF_PASSWORD, role: 'NURSE' },
    });
    expect(created.errors).toBeUndefined();
    const { page } = await openSignedIn('nurse.web@example.org', STAFF_PASSWORD);
    const offered = await Promise.all((await page.locator('#nav li:not([hidden]) a').all()).map((a) => a.getAttribute('data-view')));
    expect(offered).toEqual(['appointments', 'patients', 'notifications']);
    // Typing the address of a view not offered lands on the first allowed one.
    await page.evaluate("location.hash = '#reports'");
    await page.waitForSelector('#view-appointments:not([hidden])');
    expect(await page.isVisible('#view-reports')).toBe(false);
    // The patient's allergies are readable for a nurse.
    await page.click('a[data-view=patients]');
    await page.click(`#patient-list [data-id="${patient.id}"]`);
    await page.waitForSelector('#patient-detail h2');
    expect(await page.textContent('#patient-detail')).toContain('Penicillin');
    await page.context().close();
  });
});
