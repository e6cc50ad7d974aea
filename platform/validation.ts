import { DateTime } from 'luxon';
import { badInput } from './errors';

const E164 = /^\+[1-9]\d{6,14}$/;

/** Phone numbers are stored in E.164 (+ country code, digits only) so SMS delivery can use them. */
export function assertPhone(value: string | null | undefined, field: string): void {
  if (value !== null && value !== undefined && !E164.test(value)) {
    throw badInput(`${field} must be an international phone number like +4930123456 (E.164)`, field);
  }
}

/** A calendar date (YYYY-MM-DD) that is not in the future and not absurdly old. */
export function assertPastDate(value: string | null | undefined, field: string, zone: string): void {
  if (value === null || value === undefined) return;
  const today = DateTime.now().setZone(zone).toISODate() ?? '';
  if (value > today) throw badInput(`${field} cannot be in the future`, field);
  if (value < '1880-01-01') throw badInput(`${field} is before 1880`, field);
}

/** An instant that has already happened (a minute of clock skew allowed). */
export function assertPastInstant(value: Date, field: string): void {
  if (value.getTime() > Date.now() + 60_000) throw badInput(`${field} cannot be in the future`, field);
}

/** Rejects an explicit null for a field that an update may change but never clear. */
export function assertNotCleared(input: Record<string, unknown>, fields: readonly string[]): void {
  for (const f of fields) {
    if (f in input && input[f] === null) throw badInput(`${f} cannot be removed, only changed`, f);
  }
}
