import type { Page } from 'playwright-core';
import { clinicDate, go, openAs, PASSWORD, reviewProblems, startWebStack, stopWebStack, type OpenPage, type WebStack } from './harness';

/**
 * The pharmacy area in a real browser: the medication catalogue with stock and low-stock alerts
 * (admin), prescribing (doctor), the queue and dispensing (pharmacist), a patient's own
 * prescriptions, at desktop and phone width.
 */
let web: WebStack;
let seq = 0;
/** A unique name and code per test (the catalogue search matches the start of the name). */
const unique = (prefix: string) => {
  seq += 1;
  const tag = `${Date.now().toString(36)}${seq}`;
  return { name: `${prefix}${tag}`, code: `T-${tag}`.toUpperCase() };
};

beforeAll(async () => {
  web = await startWebStack();
  // The harness's doctor treats the harness's patient once they have an appointment.
  const day = clinicDate(3);
  const slots = await web.fixture<{ availableSlots: { start: string; end: string }[] }>(
    `query S($d: ObjectID!, $f: DateTime!, $t: DateTime!) { availableSlots(doctorId: $d, from: $f, to: $t) { start end } }`,
    { d: web.doctor.id, f: `${day}T00:00:00Z`, t: `${day}T23:59:59Z` },
  );
  const slot = slots.availableSlots[0]!;
  await web.fixture(`mutation B($i: BookAppointmentInput!) { bookAppointment(input: $i) { id } }`, {
    i: { patientId: web.patient.id, doctorId: web.doctor.id, start: slot.start, end: slot.end, reason: 'Prescription review' },
  });
  // The care relation is handed on by an outbox: wait until the doctor's patient list has them.
  const doctor = await web.graph.login(web.emails.DOCTOR, PASSWORD);
  for (let i = 0; ; i++) {
    const res = await web.graph.as<{ patients: { edges: { node: { id: string } }[] } }>(doctor, `query { patients(first: 100) { edges { node { id } } } }`);
    if (res.data?.patients.edges.some((e) => e.node.id === web.patient.id)) break;
    if (i > 100) throw new Error('the doctor never came to treat the patient');
    await new Promise((r) => setTimeout(r, 200));
  }
}, 180_000);
afterAll(() => stopWebStack(web));

async function expectReviewed(open: OpenPage): Promise<void> {
  expect(await reviewProblems(open)).toEqual([]);
}

async function addMedication(name: string, code: string, stockOnHand: number, reorderLevel: number): Promise<string> {
  const { addMedication: m } = await web.fixture<{ addMedication: { id: string } }>(
    `mutation M($i: AddMedicationInput!) { addMedication(input: $i) { id } }`,
    { i: { name, form: 'TABLET', strength: '50 mg', code, unit: 'tablet', stockOnHand, reorderLevel } },
  );
  return m.id;
}

const rowOf = (page: Page, list: string, text: string) => page.locator(`${list} tbody tr`, { hasText: text });

describe('pharmacy: medications and prescriptions', () => {
  it.each(['desktop', 'phone'] as const)(
    'admin adds a medication below its reorder level, sees it flagged low, restocks it and the flag goes away (%s)',
    async (viewport) => {
      const { name, code } = unique('Lowstockol');
      const open = await openAs(web, 'ADMIN', viewport);
      const { page } = open;
      await go(page, 'Medications');
      await page.getByRole('heading', { name: 'Medications', level: 1 }).waitFor();
      await page.getByRole('heading', { name: 'Low-stock alerts' }).waitFor();
      await expectReviewed(open);

      await page.getByRole('link', { name: 'Add medication' }).click();
      await page.getByRole('heading', { name: 'Add medication', level: 1 }).waitFor();
      await page.getByLabel('Name', { exact: true }).fill(name);
      await page.getByLabel('Form', { exact: true }).selectOption('TABLET');
      await page.getByLabel('Strength').fill('50 mg');
      await page.getByLabel('Code').fill(code);
      await page.getByLabel('Unit').fill('tablet');
      await page.getByLabel('Stock on hand').fill('3');
      await page.getByLabel('Reorder level').fill('10');
      await expectReviewed(open);
      await page.locator('#add-medication-form').getByRole('button', { name: 'Add medication' }).click();

      // The new medication's page: 3 on hand, below 10, flagged in words.
      await page.getByRole('heading', { name: `${name} 50 mg`, level: 1 }).waitFor();
      await page.getByText(`${name} 50 mg added to the catalogue.`).waitFor();
      expect((await page.locator('#stock-level').textContent())?.trim()).toBe('3 tablets on hand Low stock');
      await expectReviewed(open);

      // The catalogue: an alert on top, and the badge on its row.
      await page.getByRole('link', { name: 'Back to the catalogue' }).click();
      const alert = page.locator('#low-stock-alerts li', { hasText: name });
      await alert.waitFor();
      expect(await alert.textContent()).toContain('Low stock');
      expect(await alert.textContent()).toContain('3 tablets on hand, reorder level 10');
      await page.getByLabel('Search by name or code').fill(name.slice(0, -1));
      const row = rowOf(page, '#medication-list', name);
      await row.waitFor();
      await page.getByLabel('Low stock only').check();
      await row.waitFor();
      expect(await row.locator('.low-stock-badge').textContent()).toBe('Low stock');
      await expectReviewed(open);

      // Restock: 20 more is 23, at or above 10: the badge goes away, here and in the alerts.
      await row.getByRole('link', { name: `Restock or edit ${name} 50 mg` }).click();
      await page.getByRole('heading', { name: `${name} 50 mg`, level: 1 }).waitFor();
      await page.getByLabel(/Quantity received/).fill('20');
      await page.getByLabel('Lot number of the delivery (optional)').fill('LOT-42');
      await page.getByRole('button', { name: 'Receive stock' }).click();
      await page.getByText('Received 20 tablets. Stock on hand is now 23 tablets.').waitFor();
      expect((await page.locator('#stock-level').textContent())?.trim()).toBe('23 tablets on hand');
      expect(await page.locator('#stock-level .low-stock-badge').count()).toBe(0);
      expect(await page.getByText('LOT-42', { exact: true }).count()).toBeGreaterThan(0);
      await expectReviewed(open);

      await page.getByRole('link', { name: 'Back to the catalogue' }).click();
      await page.getByRole('heading', { name: 'Low-stock alerts' }).waitFor();
      await page.locator('#low-stock-alerts ul, #low-stock-alerts .empty-state').first().waitFor();
      await page.locator('#low-stock-alerts li', { hasText: name }).waitFor({ state: 'detached' });
      await page.getByLabel('Search by name or code').fill(name);
      const restocked = rowOf(page, '#medication-list', name);
      await restocked.waitFor();
      expect(await restocked.textContent()).toContain('23 tablets');
      expect(await restocked.locator('.low-stock-badge').count()).toBe(0);
      await expectReviewed(open);
      await open.context.close();
    },
    120_000,
  );

  it.each(['desktop', 'phone'] as const)(
    'doctor prescribes for their patient; the pharmacist dispenses from the queue (stock and fills go down, too much is refused in words); the patient sees it (%s)',
    async (viewport) => {
      const { name, code } = unique('Dispensol');
      await addMedication(name, code, 50, 5);

      // Doctor: prescribe for Wanda, who has an appointment with them.
      const doctor = await openAs(web, 'DOCTOR', viewport);
      let page = doctor.page;
      await go(page, 'Prescriptions');
      await page.getByRole('heading', { name: 'Prescriptions', level: 1 }).waitFor();
      await expectReviewed(doctor);
      await page.getByRole('button', { name: 'New prescription' }).click();
      await page.getByRole('heading', { name: 'New prescription' }).waitFor();
      await page.getByLabel('Find a patient').fill('Wanda');
      await page.locator(`#prescribe-patient option[value="${web.patient.id}"]`).waitFor({ state: 'attached' });
      await page.getByLabel('Patient', { exact: true }).selectOption(web.patient.id);
      await page.getByText('Allergies: Penicillin').waitFor();
      await page.getByLabel('Find a medication').fill(name);
      const option = page.locator('#prescribe-medication option', { hasText: name });
      await option.waitFor({ state: 'attached' });
      expect(await option.textContent()).toContain('50 tablets in stock');
      await page.getByLabel('Medication', { exact: true }).selectOption((await option.getAttribute('value'))!);
      await page.getByLabel('Dose').fill('1 tablet');
      await page.getByLabel('How often').fill('twice daily');
      await page.getByLabel('Refills after the first fill').fill('1');
      await expectReviewed(doctor);
      await page.getByRole('button', { name: 'Prescribe', exact: true }).click();
      await page.getByText(`Prescribed ${name} 50 mg for ${web.patient.name}.`).waitFor();
      const written = rowOf(page, '#prescription-list', name);
      await written.waitFor();
      expect(await written.textContent()).toContain('1 tablet, twice daily');
      expect(await written.locator('.rx-fills-left').textContent()).toBe('2 fills left');
      expect(await written.getByRole('button', { name: 'Cancel prescription' }).count()).toBe(1);
      expect(await written.getByRole('button', { name: 'Dispense' }).count()).toBe(0);
      await expectReviewed(doctor);
      await doctor.context.close();

      // Pharmacist: the queue shows it with the stock; dispense 10.
      const pharmacist = await openAs(web, 'PHARMACIST', viewport);
      page = pharmacist.page;
      await go(page, 'Prescriptions');
      await page.getByRole('heading', { name: 'Queue' }).waitFor();
      const queued = rowOf(page, '#prescription-list', name);
      await queued.waitFor();
      expect(await queued.locator('.rx-patient').textContent()).toBe(web.patient.name);
      expect(await queued.locator('.rx-stock-amount').textContent()).toBe('50 tablets');
      expect(await queued.locator('.rx-fills-left').textContent()).toBe('2 fills left');
      await expectReviewed(pharmacist);
      await queued.getByLabel('Quantity (tablet)').fill('10');
      await queued.getByRole('button', { name: 'Dispense' }).click();
      await page.getByText(`Dispensed 10 tablets of ${name} 50 mg for ${web.patient.name}. 1 fill left; 40 tablets in stock.`).waitFor();
      await queued.locator('.rx-fills-left', { hasText: '1 fill left' }).waitFor();
      expect(await queued.locator('.rx-stock-amount').textContent()).toBe('40 tablets');
      await expectReviewed(pharmacist);

      // More than the stock: refused with the graph's CONFLICT message, nothing changed.
      await queued.getByLabel('Quantity (tablet)').fill('100');
      await queued.getByRole('button', { name: 'Dispense' }).click();
      const refused = queued.getByRole('alert');
      await refused.waitFor();
      expect(await refused.textContent()).toBe(`Not enough ${name} 50 mg in stock: 40 tablet(s) on hand, 100 requested`);
      expect(await queued.locator('.rx-fills-left').textContent()).toBe('1 fill left');
      expect(await queued.locator('.rx-stock-amount').textContent()).toBe('40 tablets');
      await expectReviewed(pharmacist);
      await pharmacist.context.close();

      // Patient: their own prescription, read only.
      const patient = await openAs(web, 'PATIENT', viewport);
      page = patient.page;
      await go(page, 'Prescriptions');
      await page.getByRole('heading', { name: 'My prescriptions', level: 1 }).waitFor();
      const mine = rowOf(page, '#prescription-list', name);
      await mine.waitFor();
      expect(await mine.locator('.rx-fills-left').textContent()).toBe('1 fill left');
      expect(await mine.textContent()).toContain(web.doctor.name);
      expect(await page.locator('#prescription-list').getByRole('button').count()).toBe(0);
      expect(await page.locator('#nav').getByRole('link', { name: 'Medications' }).count()).toBe(0);
      await expectReviewed(patient);
      await patient.context.close();
    },
    180_000,
  );

  it.each([
    ['DOCTOR', 'desktop'],
    ['NURSE', 'phone'],
  ] as const)('%s reads the catalogue and its stock, without stock controls (%s)', async (role, viewport) => {
    const { name, code } = unique('Readonlyol');
    await addMedication(name, code, 2, 4);
    const open = await openAs(web, role, viewport);
    const { page } = open;
    await go(page, 'Medications');
    await page.getByRole('heading', { name: 'Low-stock alerts' }).waitFor();
    await page.locator('#low-stock-alerts li', { hasText: name }).waitFor();
    expect(await page.getByRole('link', { name: 'Add medication' }).count()).toBe(0);
    await page.getByLabel('Search by name or code').fill(name);
    const row = rowOf(page, '#medication-list', name);
    await row.waitFor();
    expect(await row.textContent()).toContain('2 tablets');
    await expectReviewed(open);
    await row.getByRole('link', { name: `Open ${name} 50 mg` }).click();
    await page.getByRole('heading', { name: `${name} 50 mg`, level: 1 }).waitFor();
    expect((await page.locator('#stock-level').textContent())?.trim()).toBe('2 tablets on hand Low stock');
    expect(await page.getByRole('button', { name: 'Receive stock' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Save changes' }).count()).toBe(0);
    await expectReviewed(open);
    await open.context.close();
  }, 90_000);

  it.each(['desktop', 'phone'] as const)('a dispense whose answer is lost is sent again with the same Idempotency-Key and dispenses once (%s)', async (viewport) => {
    const { name, code } = unique('Retryol');
    const medicationId = await addMedication(name, code, 30, 5);
    const { prescribe } = await web.fixture<{ prescribe: { id: string } }>(`mutation P($i: PrescribeInput!) { prescribe(input: $i) { id } }`, {
      i: { patientId: web.patient.id, doctorId: web.doctor.id, medicationId, dosage: '1 tablet', frequency: 'daily', startDate: clinicDate(0), refillsAllowed: 2 },
    });
    const open = await openAs(web, 'PHARMACIST', viewport);
    const { page } = open;
    // The first dispense reaches the graph and is done there, but its answer never arrives.
    const keys: string[] = [];
    await page.route('**/graphql', async (route) => {
      const request = route.request();
      if (!request.postData()?.includes('PharmacyDispense')) return route.fallback();
      keys.push(request.headers()['idempotency-key'] ?? '');
      if (keys.length > 1) return route.fallback();
      await route.fetch();
      return route.abort('connectionreset');
    });
    await go(page, 'Prescriptions');
    const row = rowOf(page, '#prescription-list', name);
    await row.waitFor();
    await row.getByLabel('Quantity (tablet)').fill('4');
    await row.getByRole('button', { name: 'Dispense' }).click();
    await page.getByText(`Dispensed 4 tablets of ${name} 50 mg for ${web.patient.name}. 2 fills left; 26 tablets in stock.`).waitFor();
    expect(keys.length).toBeGreaterThanOrEqual(2);
    expect(new Set(keys).size).toBe(1);
    expect(keys[0]).toMatch(/^[\w-]{16,}$/);
    const { prescription } = await web.fixture<{ prescription: { fillsDispensed: number; medication: { stockOnHand: number } } }>(
      `query R($id: ObjectID!) { prescription(id: $id) { fillsDispensed medication { stockOnHand } } }`,
      { id: prescribe.id },
    );
    expect(prescription).toEqual({ fillsDispensed: 1, medication: { stockOnHand: 26 } });
    expect(await row.locator('.rx-stock-amount').textContent()).toBe('26 tablets');
    // The one cut connection is the only problem the page saw.
    expect((await reviewProblems(open)).filter((p) => !/ERR_CONNECTION_RESET|Failed to load resource/.test(p))).toEqual([]);
    await open.context.close();
  }, 120_000);

  it.each(['desktop', 'phone'] as const)('doctor cancels a prescription they wrote; it leaves the pharmacist queue (%s)', async (viewport) => {
    const { name, code } = unique('Cancelol');
    const medicationId = await addMedication(name, code, 30, 5);
    await web.fixture(`mutation P($i: PrescribeInput!) { prescribe(input: $i) { id } }`, {
      i: { patientId: web.patient.id, doctorId: web.doctor.id, medicationId, dosage: '2 tablets', frequency: 'at night', startDate: clinicDate(0) },
    });
    const doctor = await openAs(web, 'DOCTOR', viewport);
    const { page } = doctor;
    await go(page, 'Prescriptions');
    const row = rowOf(page, '#prescription-list', name);
    await row.waitFor();
    await row.getByRole('button', { name: 'Cancel prescription' }).click();
    await row.getByLabel('Reason (optional)').fill('Changed to another medication');
    await expectReviewed(doctor);
    await row.getByRole('button', { name: 'Yes, cancel it' }).click();
    await page.getByText(`Cancelled the prescription of ${name} 50 mg for ${web.patient.name}.`).waitFor();
    await row.getByText('Cancelled', { exact: true }).waitFor();
    expect(await row.textContent()).toContain('Changed to another medication');
    expect(await row.getByRole('button').count()).toBe(0);
    await expectReviewed(doctor);
    await doctor.context.close();

    const pharmacist = await openAs(web, 'PHARMACIST', viewport);
    await go(pharmacist.page, 'Prescriptions');
    await pharmacist.page.getByRole('heading', { name: 'Queue' }).waitFor();
    await pharmacist.page.locator('#prescription-list, .empty-state').first().waitFor();
    expect(await rowOf(pharmacist.page, '#prescription-list', name).count()).toBe(0);
    await pharmacist.page.getByLabel('Show').selectOption('CANCELLED');
    await rowOf(pharmacist.page, '#prescription-list', name).waitFor();
    await expectReviewed(pharmacist);
    await pharmacist.context.close();
  }, 120_000);
});
