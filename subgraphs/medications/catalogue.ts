import { badInput, conflict, isDuplicateKey, notFound } from '../../platform/errors';
import { newOutbox } from '../../platform/outbox';
import { escapeRegex, paginate, type Connection } from '../../platform/pagination';
import { assertNotCleared } from '../../platform/validation';
import type { AddMedicationInput, ReceiveStockInput, UpdateMedicationInput } from './__generated__/resolvers-types';
import { medicationSortKey, type MedicationDoc, type MedicationModels } from './model';
import type { Stock } from './stock';

function assertCount(value: number | null | undefined, field: string): void {
  if (value !== null && value !== undefined && (!Number.isInteger(value) || value < 0)) {
    throw badInput(`${field} must be a whole number of 0 or more`, field);
  }
}

/** The medication catalogue and its stock (dispensing is in dispense.ts). */
export class Catalogue {
  constructor(
    private readonly models: MedicationModels,
    private readonly stock: Stock,
  ) {}

  async get(id: string): Promise<MedicationDoc> {
    const doc = await this.models.Medication.findById(id).lean<MedicationDoc>();
    if (!doc) throw notFound('Medication', id);
    return doc;
  }

  list(args: { search?: string | null; lowStock?: boolean | null; first?: number | null; after?: string | null }): Promise<Connection<MedicationDoc>> {
    const filter: Record<string, unknown> = {};
    const search = args.search?.trim();
    if (search) {
      const prefix = { $regex: `^${escapeRegex(search)}`, $options: 'i' };
      filter.$or = [{ name: prefix }, { code: prefix }];
    }
    if (args.lowStock !== null && args.lowStock !== undefined) filter.lowStock = args.lowStock;
    return paginate(this.models.Medication, filter, 'sortKey', args);
  }

  async add(input: AddMedicationInput): Promise<MedicationDoc> {
    assertCount(input.stockOnHand, 'stockOnHand');
    assertCount(input.reorderLevel, 'reorderLevel');
    const stockOnHand = input.stockOnHand ?? 0;
    try {
      const doc = await this.models.Medication.create({
        ...input,
        stockOnHand,
        sortKey: medicationSortKey(input.name, input.strength),
        lowStock: stockOnHand < input.reorderLevel,
        ...newOutbox(),
        pendingDispensations: [],
      });
      return doc.toObject<MedicationDoc>();
    } catch (err) {
      if (isDuplicateKey(err)) throw conflict(`A medication with code ${input.code} already exists`);
      throw err;
    }
  }

  async update(id: string, input: UpdateMedicationInput): Promise<MedicationDoc> {
    assertNotCleared(input, ['name', 'form', 'strength', 'code', 'unit', 'reorderLevel']);
    assertCount(input.reorderLevel, 'reorderLevel');
    const fields = Object.entries(input).filter(([k, v]) => v !== undefined && k !== 'reorderLevel');
    try {
      return await this.stock.change(id, 0, {
        reorderLevel: input.reorderLevel ?? undefined,
        set: (current) => ({
          ...Object.fromEntries(fields.filter(([, v]) => v !== null)),
          sortKey: medicationSortKey(input.name ?? current.name, input.strength ?? current.strength),
        }),
        unset: fields.filter(([, v]) => v === null).map(([k]) => k),
      });
    } catch (err) {
      if (isDuplicateKey(err)) throw conflict(`A medication with code ${input.code} already exists`);
      throw err;
    }
  }

  async receive(id: string, input: ReceiveStockInput): Promise<MedicationDoc> {
    if (!Number.isInteger(input.quantity) || input.quantity < 1) throw badInput('quantity must be a whole number above 0', 'quantity');
    const delivery = Object.fromEntries(Object.entries({ lot: input.lot, expiresOn: input.expiresOn }).filter(([, v]) => v != null));
    return this.stock.change(id, input.quantity, { set: () => delivery });
  }
}
