import { Types, type Connection } from 'mongoose';
import type { Config } from '../../platform/config';
import type { Identity } from '../../platform/identity';
import { ServiceClient } from '../../platform/serviceClient';
import { dropTestDatabases, openDb, silentLog, testConfig } from '../../test/helpers';
import { createMedicationModels, type DispensationDoc, type MedicationModels } from './model';
import { MedicationServices } from './service';
import { planStockChange } from './stock';

let cfg: Config;
let conn: Connection;
let models: MedicationModels;
let svc: MedicationServices;

beforeAll(async () => {
  cfg = testConfig();
  conn = await openDb(cfg, 'medications');
  models = await createMedicationModels(conn);
  // The client is not called here: prescriptions are recorded through create(), after the checks
  // against patients and doctors that test/medications.e2e.test.ts covers through the router.
  svc = new MedicationServices(models, new ServiceClient(cfg, 'medications'), silentLog);
});
afterAll(async () => {
  await conn.close();
  await dropTestDatabases(cfg, ['medications']);
});

const pharmacist: Identity = { userId: 'u-pharm', role: 'PHARMACIST' };
const oid = () => String(new Types.ObjectId());
let codes = 0;

async function medication(stockOnHand: number, reorderLevel: number) {
  return svc.catalogue.add({ name: `Med ${++codes}`, form: 'TABLET', strength: '500 mg', code: `C-${codes}`, unit: 'tablet', stockOnHand, reorderLevel });
}
async function prescription(medicationId: string, refillsAllowed = 0) {
  return svc.prescriptions.create({
    patientId: oid(),
    prescriberId: oid(),
    medicationId,
    dosage: '1 tablet',
    frequency: 'twice daily',
    startDate: '2026-01-01',
    endDate: null,
    refillsAllowed,
  });
}
const stockOf = async (id: Types.ObjectId) => (await models.Medication.findById(id).lean())!;
const rxOf = async (id: Types.ObjectId) => (await models.Prescription.findById(id).lean())!;
const lowStockEvents = async (id: Types.ObjectId) => (await stockOf(id)).outbox.filter((e) => e.type === 'LOW_STOCK');
/** Makes a dispensation look as if it was begun two minutes ago (a process that stopped). */
const backdate = (d: DispensationDoc) => models.Dispensation.collection.updateOne({ _id: d._id }, { $set: { createdAt: new Date(Date.now() - 120_000) } });

describe('catalogue and stock', () => {
  it('receives stock, records lot and expiry, and keeps lowStock right', async () => {
    const m = await medication(0, 5);
    expect(m.lowStock).toBe(true);
    const received = await svc.catalogue.receive(String(m._id), { quantity: 12, lot: 'L-42', expiresOn: '2027-06-30' });
    expect(received).toMatchObject({ stockOnHand: 12, lowStock: false, lot: 'L-42', expiresOn: '2027-06-30' });
    await expect(svc.catalogue.receive(String(m._id), { quantity: 0 })).rejects.toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'quantity' } });
    await expect(svc.catalogue.receive(oid(), { quantity: 1 })).rejects.toMatchObject({ extensions: { code: 'NOT_FOUND' } });
    expect((await stockOf(m._id)).stockOnHand).toBe(12);
  });

  it('updates catalogue fields and the reorder level, refuses a duplicate code', async () => {
    const m = await medication(8, 5);
    const updated = await svc.catalogue.update(String(m._id), { name: 'Amoxicillin', reorderLevel: 10, lot: 'A1' });
    expect(updated).toMatchObject({ name: 'Amoxicillin', reorderLevel: 10, lowStock: true, stockOnHand: 8, sortKey: 'amoxicillin 500 mg', lot: 'A1' });
    expect((await svc.catalogue.update(String(m._id), { lot: null })).lot).toBeUndefined();
    const other = await medication(1, 0);
    await expect(svc.catalogue.update(String(other._id), { code: m.code })).rejects.toMatchObject({ extensions: { code: 'CONFLICT' } });
    await expect(svc.catalogue.update(String(m._id), { reorderLevel: -1 })).rejects.toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'reorderLevel' } });
    await expect(svc.catalogue.add({ name: 'X', form: 'OTHER', strength: '1', code: m.code, unit: 'u', reorderLevel: 0 })).rejects.toMatchObject({
      extensions: { code: 'CONFLICT' },
    });
    const low = await svc.catalogue.list({ lowStock: true, first: 100 });
    expect(low.edges.map((e) => e.node.name)).toContain('Amoxicillin');
    expect(low.edges.every((e) => e.node.stockOnHand < e.node.reorderLevel)).toBe(true);
    await expect(svc.catalogue.list({ first: 101 })).rejects.toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'first' } });
  });

  it('plans a conditional update that matches only stock levels for which it is right', () => {
    const _id = new Types.ObjectId();
    expect(planStockChange({ _id, stockOnHand: 2, reorderLevel: 5 }, -3)).toBeNull();
    expect(planStockChange({ _id, stockOnHand: 20, reorderLevel: 5 }, -3)?.filter).toEqual({ _id, reorderLevel: 5, stockOnHand: { $gte: 8 } });
    const crossing = planStockChange({ _id, stockOnHand: 6, reorderLevel: 5 }, -3)!;
    expect(crossing.filter.stockOnHand).toBe(6);
    expect(crossing.event).toMatchObject({ type: 'LOW_STOCK', data: { stockOnHand: 3, reorderLevel: 5 } });
    expect(planStockChange({ _id, stockOnHand: 4, reorderLevel: 5 }, -3)?.filter).toEqual({ _id, reorderLevel: 5, stockOnHand: { $gte: 3, $lt: 5 } });
    expect(planStockChange({ _id, stockOnHand: 4, reorderLevel: 5 }, 3)?.update.$set.lowStock).toBe(false);
  });
});

describe('dispensing', () => {
  it('takes the quantity from stock and uses one fill, then the refills', async () => {
    const m = await medication(20, 2);
    const p = await prescription(String(m._id), 1);
    expect(p).toMatchObject({ fillsRemaining: 2, fillsDispensed: 0, status: 'ACTIVE' });
    expect(p.outbox).toMatchObject([{ type: 'PRESCRIPTION_CREATED', data: { prescriptionId: String(p._id), patientId: p.patientId } }]);
    expect(p).toMatchObject({ outboxSeq: 1, outboxHandled: 0, outboxPending: true });

    const first = await svc.dispensing.dispense(String(p._id), 3, pharmacist);
    expect(first.dispensation).toMatchObject({ quantity: 3, status: 'COMPLETED', dispensedBy: 'u-pharm' });
    expect(first.medication.stockOnHand).toBe(17);
    expect(first.prescription).toMatchObject({ fillsRemaining: 1, fillsDispensed: 1 });
    await svc.dispensing.dispense(String(p._id), 3, pharmacist);

    expect(await rxOf(p._id)).toMatchObject({ fillsRemaining: 0, fillsDispensed: 2, pendingFills: [] });
    expect(await stockOf(m._id)).toMatchObject({ stockOnHand: 14, pendingDispensations: [] });
    expect(await models.Dispensation.countDocuments({ prescriptionId: String(p._id), status: 'COMPLETED' })).toBe(2);
  });

  it('refuses a prescription whose fills are used up, changing nothing', async () => {
    const m = await medication(20, 0);
    const p = await prescription(String(m._id), 0);
    await svc.dispensing.dispense(String(p._id), 5, pharmacist);
    await expect(svc.dispensing.dispense(String(p._id), 5, pharmacist)).rejects.toMatchObject({
      message: expect.stringMatching(/has no fills left: 1 of 1 fill\(s\) dispensed/),
      extensions: { code: 'CONFLICT' },
    });
    expect((await stockOf(m._id)).stockOnHand).toBe(15);
    expect(await rxOf(p._id)).toMatchObject({ fillsRemaining: 0, fillsDispensed: 1 });
    await expect(svc.prescriptions.cancel(String(p._id))).rejects.toMatchObject({ message: expect.stringMatching(/completed/), extensions: { code: 'CONFLICT' } });
  });

  it('refuses a cancelled prescription; cancelling twice is a conflict', async () => {
    const m = await medication(20, 0);
    const p = await prescription(String(m._id), 3);
    const cancelled = await svc.prescriptions.cancel(String(p._id), ' moved abroad ');
    expect(cancelled).toMatchObject({ status: 'CANCELLED', cancelReason: 'moved abroad' });
    await expect(svc.dispensing.dispense(String(p._id), 1, pharmacist)).rejects.toMatchObject({
      message: expect.stringMatching(/is cancelled and cannot be dispensed/),
      extensions: { code: 'CONFLICT' },
    });
    await expect(svc.prescriptions.cancel(String(p._id))).rejects.toMatchObject({ message: expect.stringMatching(/already cancelled/), extensions: { code: 'CONFLICT' } });
    expect((await stockOf(m._id)).stockOnHand).toBe(20);
    await expect(svc.dispensing.dispense(oid(), 1, pharmacist)).rejects.toMatchObject({ extensions: { code: 'NOT_FOUND' } });
    await expect(svc.dispensing.dispense(String(p._id), 0, pharmacist)).rejects.toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
  });

  it('gives the fill back when the stock step fails', async () => {
    const m = await medication(2, 0);
    const p = await prescription(String(m._id), 2);
    const d = await svc.dispensing.begin(p, 5, 'u-pharm');
    await svc.dispensing.claimFill(d);
    await expect(svc.dispensing.takeStock(d)).rejects.toMatchObject({
      message: 'Not enough Med ' + codes + ' 500 mg in stock: 2 tablet(s) on hand, 5 requested',
      extensions: { code: 'CONFLICT' },
    });
    expect(await svc.dispensing.rollBack(d._id, 'test')).toBe(true);
    expect(await rxOf(p._id)).toMatchObject({ fillsRemaining: 3, fillsDispensed: 0, pendingFills: [] });
    expect((await stockOf(m._id)).stockOnHand).toBe(2);
    expect(await models.Dispensation.findById(d._id).lean()).toMatchObject({ status: 'ROLLED_BACK', reason: 'test' });
    expect(await svc.dispensing.rollBack(d._id, 'again')).toBe(true); // idempotent: gives nothing back twice
    expect(await rxOf(p._id)).toMatchObject({ fillsRemaining: 3, fillsDispensed: 0 });
  });

  it('pushes LOW_STOCK once per crossing below the reorder level', async () => {
    const m = await medication(10, 5);
    expect(m).toMatchObject({ outbox: [], outboxSeq: 0, outboxPending: false });
    const p = await prescription(String(m._id), 12);
    const id = String(p._id);
    await svc.dispensing.dispense(id, 3, pharmacist); // 10 → 7
    expect(await lowStockEvents(m._id)).toHaveLength(0);
    await svc.dispensing.dispense(id, 3, pharmacist); // 7 → 4: crosses
    await svc.dispensing.dispense(id, 1, pharmacist); // 4 → 3: already below
    const events = await lowStockEvents(m._id);
    expect(events).toHaveLength(1);
    expect(events[0].data).toEqual({ medicationId: String(m._id), stockOnHand: 4, reorderLevel: 5 });
    expect(await stockOf(m._id)).toMatchObject({ stockOnHand: 3, lowStock: true, outboxSeq: 1, outboxPending: true });
    await svc.catalogue.receive(String(m._id), { quantity: 10 }); // 13, above again
    expect(await lowStockEvents(m._id)).toHaveLength(1);
    await svc.dispensing.dispense(id, 8, pharmacist); // 13 → 5: not below
    expect(await lowStockEvents(m._id)).toHaveLength(1);
    await svc.dispensing.dispense(id, 1, pharmacist); // 5 → 4: crosses again
    expect(await lowStockEvents(m._id)).toHaveLength(2);
    expect((await stockOf(m._id)).outboxSeq).toBe(2);
  });

  it('never oversells under concurrency: 30 parallel dispenses against a stock of 10', async () => {
    const m = await medication(10, 4);
    const rx = await Promise.all([1, 2, 3].map(() => prescription(String(m._id), 12)));
    const results = await Promise.allSettled(Array.from({ length: 30 }, (_v, i) => svc.dispensing.dispense(String(rx[i % 3]._id), 1, pharmacist)));
    const ok = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(ok).toHaveLength(10);
    expect(refused.every((r) => r.reason.extensions?.code === 'CONFLICT')).toBe(true);
    expect(await stockOf(m._id)).toMatchObject({ stockOnHand: 0, lowStock: true, pendingDispensations: [] });
    expect(await lowStockEvents(m._id)).toHaveLength(1);
    const fills = await models.Prescription.find({ _id: { $in: rx.map((p) => p._id) } }).lean();
    expect(fills.reduce((n, p) => n + p.fillsDispensed, 0)).toBe(10);
    expect(fills.every((p) => p.fillsDispensed + p.fillsRemaining === 13 && p.pendingFills.length === 0)).toBe(true);
    expect(await models.Dispensation.countDocuments({ medicationId: String(m._id), status: { $nin: ['COMPLETED', 'ROLLED_BACK'] } })).toBe(0);
  });
});

describe('recovery of dispensations a stopped process left unfinished', () => {
  it('gives back the fill, and the stock, of stale PENDING dispensations and leaves fresh ones alone', async () => {
    const m = await medication(10, 0);
    const p = await prescription(String(m._id), 4);
    const fillOnly = await svc.dispensing.begin(p, 2, 'u-pharm');
    await svc.dispensing.claimFill(fillOnly);
    const fillAndStock = await svc.dispensing.begin(p, 3, 'u-pharm');
    await svc.dispensing.claimFill(fillAndStock);
    await svc.dispensing.takeStock(fillAndStock);
    const fresh = await svc.dispensing.begin(p, 1, 'u-pharm');
    await svc.dispensing.claimFill(fresh);
    const completed = await svc.dispensing.dispense(String(p._id), 1, pharmacist);
    await Promise.all([backdate(fillOnly), backdate(fillAndStock), backdate(completed.dispensation)]);
    expect(await rxOf(p._id)).toMatchObject({ fillsRemaining: 1, fillsDispensed: 4 });
    expect((await stockOf(m._id)).stockOnHand).toBe(6);

    expect(await svc.dispensing.recover()).toBe(2);

    expect(await rxOf(p._id)).toMatchObject({ fillsRemaining: 3, fillsDispensed: 2 });
    expect((await stockOf(m._id)).stockOnHand).toBe(9);
    const status = async (d: DispensationDoc) => (await models.Dispensation.findById(d._id).lean())!.status;
    expect(await status(fillOnly)).toBe('ROLLED_BACK');
    expect(await status(fillAndStock)).toBe('ROLLED_BACK');
    expect(await status(fresh)).toBe('PENDING');
    expect(await status(completed.dispensation)).toBe('COMPLETED');
    expect(await svc.dispensing.recover()).toBe(0);
  });

  it('a dispensation taken over by recovery cannot complete, and what it took is given back', async () => {
    const m = await medication(10, 0);
    const p = await prescription(String(m._id), 0);
    const d = await svc.dispensing.begin(p, 4, 'u-pharm');
    await backdate(d);
    await svc.dispensing.recover(); // runs while the (slow) saga is still going
    await svc.dispensing.claimFill(d);
    await svc.dispensing.takeStock(d);
    await expect(svc.dispensing.complete(d)).rejects.toMatchObject({ extensions: { code: 'CONFLICT' } });
    await svc.dispensing.rollBack(d._id, 'completion refused');
    expect(await rxOf(p._id)).toMatchObject({ fillsRemaining: 1, fillsDispensed: 0, pendingFills: [] });
    expect(await stockOf(m._id)).toMatchObject({ stockOnHand: 10, pendingDispensations: [] });
  });
});

describe('dispensing with an idempotency key', () => {
  const scope = () => `u-pharm:dispense:key-${++codes}`;
  const reserve = (key: string, prescriptionId: string, quantity: number) => svc.keys.reserve(key, { mutation: 'dispense', prescriptionId, quantity });

  it('answers a retry with the dispensation an earlier attempt completed, and refuses the key for another request', async () => {
    const m = await medication(20, 0);
    const p = await prescription(String(m._id), 3);
    const key = scope();
    const first = await svc.dispensing.dispense(String(p._id), 2, pharmacist, key);
    const again = await svc.dispensing.dispense(String(p._id), 2, pharmacist, key);
    expect(String(again.dispensation._id)).toBe(String(first.dispensation._id));
    expect((await stockOf(m._id)).stockOnHand).toBe(18);
    await expect(svc.dispensing.dispense(String(p._id), 3, pharmacist, key)).rejects.toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
  });

  it('waits for an earlier attempt with the key that is still running and answers with its dispensation', async () => {
    const m = await medication(20, 0);
    const p = await prescription(String(m._id), 3);
    const key = scope();
    const { resultId } = await reserve(key, String(p._id), 4);
    const running = await svc.dispensing.begin(p, 4, 'u-pharm', resultId); // the earlier attempt, half-way
    const retry = svc.dispensing.dispense(String(p._id), 4, pharmacist, key);
    await svc.dispensing.claimFill(running);
    await svc.dispensing.takeStock(running);
    await svc.dispensing.complete(running);
    expect(String((await retry).dispensation._id)).toBe(String(resultId));
    expect((await stockOf(m._id)).stockOnHand).toBe(16);
    expect(await rxOf(p._id)).toMatchObject({ fillsDispensed: 1 });
  });

  it('dispenses anew when the earlier attempt with the key was rolled back, or stopped half-way long ago', async () => {
    const m = await medication(20, 0);
    const p = await prescription(String(m._id), 3);
    const failedKey = scope();
    const failed = await svc.dispensing.begin(p, 1, 'u-pharm', (await reserve(failedKey, String(p._id), 1)).resultId);
    await svc.dispensing.claimFill(failed);
    await svc.dispensing.rollBack(failed._id, 'stock step failed');
    const retried = await svc.dispensing.dispense(String(p._id), 1, pharmacist, failedKey);
    expect(String(retried.dispensation._id)).not.toBe(String(failed._id));

    const staleKey = scope();
    const stale = await svc.dispensing.begin(p, 1, 'u-pharm', (await reserve(staleKey, String(p._id), 1)).resultId);
    await svc.dispensing.claimFill(stale);
    await backdate(stale);
    const afterStale = await svc.dispensing.dispense(String(p._id), 1, pharmacist, staleKey);
    expect(String(afterStale.dispensation._id)).not.toBe(String(stale._id));
    expect((await models.Dispensation.findById(stale._id).lean())!.status).toBe('ROLLED_BACK');
    expect((await stockOf(m._id)).stockOnHand).toBe(18);
    expect(await rxOf(p._id)).toMatchObject({ fillsDispensed: 2, pendingFills: [] });
  });
});

describe('prescriptions', () => {
  it('derives COMPLETED from used-up fills and filters by status in the query', async () => {
    const m = await medication(50, 0);
    const patientId = oid();
    const make = (refillsAllowed: number) => svc.prescriptions.create({ ...{ patientId, prescriberId: oid(), medicationId: String(m._id) }, dosage: 'd', frequency: 'f', startDate: '2026-02-01', endDate: null, refillsAllowed });
    const active = await make(1);
    const done = await make(0);
    const cancelled = await make(0);
    await svc.dispensing.dispense(String(done._id), 1, pharmacist);
    await svc.prescriptions.cancel(String(cancelled._id));
    const admin: Identity = { userId: 'u-admin', role: 'ADMIN' };
    const loaders = svc.loaders({ identity: admin, requestId: 'r' });
    const ids = async (status: 'ACTIVE' | 'COMPLETED' | 'CANCELLED') =>
      (await svc.prescriptions.list({ patientId, status }, admin, loaders)).edges.map((e) => String(e.node._id));
    expect(await ids('ACTIVE')).toEqual([String(active._id)]);
    expect(await ids('COMPLETED')).toEqual([String(done._id)]);
    expect(await ids('CANCELLED')).toEqual([String(cancelled._id)]);
    const [ofPatient] = await svc.prescriptions.ofPatients([patientId]);
    expect(ofPatient.map((p) => String(p._id))).toEqual([cancelled, done, active].map((p) => String(p._id)));
    const patient: Identity = { userId: 'u-p', role: 'PATIENT', patientId: oid() };
    expect((await svc.prescriptions.list({ patientId }, patient, loaders)).edges).toEqual([]);
  });
});
