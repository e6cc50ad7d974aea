import type { MedicationForm, PrescriptionStatus } from '../../gql/graphql';

export const FORMS: Record<MedicationForm, string> = {
  TABLET: 'Tablet',
  CAPSULE: 'Capsule',
  LIQUID: 'Liquid',
  INJECTION: 'Injection',
  INHALER: 'Inhaler',
  CREAM: 'Cream',
  DROPS: 'Drops',
  PATCH: 'Patch',
  OTHER: 'Other',
};

export const FORM_LIST = Object.keys(FORMS) as MedicationForm[];

export const STATUS: Record<PrescriptionStatus, string> = {
  ACTIVE: 'Active',
  COMPLETED: 'Completed',
  CANCELLED: 'Cancelled',
};

const STATUS_CLASS: Record<PrescriptionStatus, string> = {
  ACTIVE: 'text-bg-success',
  COMPLETED: 'text-bg-secondary',
  CANCELLED: 'text-bg-dark',
};

/** A prescription's status in words (the colour only repeats it). */
export function StatusBadge({ status }: { status: PrescriptionStatus }) {
  return <span className={`badge ${STATUS_CLASS[status]}`}>{STATUS[status]}</span>;
}

/** "Low stock" in words, with an icon-free warning colour; nothing when the stock is fine. */
export function LowStockBadge({ low }: { low: boolean }) {
  if (!low) return null;
  return <span className="badge text-bg-warning low-stock-badge">Low stock</span>;
}

/** "12 tablets" / "1 tablet" (the catalogue's unit, pluralised simply). */
export function amount(n: number, unit: string): string {
  return `${n} ${n === 1 ? unit : plural(unit)}`;
}

function plural(unit: string): string {
  if (/(s|x|ch|sh)$/i.test(unit)) return `${unit}es`;
  if (/[^aeiou]y$/i.test(unit)) return `${unit.slice(0, -1)}ies`;
  return `${unit}s`;
}

const DATE = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });

/** A calendar date (yyyy-mm-dd, no zone involved) as "4 Dec 2026". */
export function localDate(date: string | null | undefined): string {
  if (!date) return '';
  return DATE.format(new Date(`${date}T12:00:00Z`));
}

/** "Amoxicillin 500 mg · capsule" */
export function medicationLabel(m: { name: string; strength: string; form: MedicationForm }): string {
  return `${m.name} ${m.strength} · ${FORMS[m.form].toLowerCase()}`;
}
