import type { Claims } from '../../platform/claim';
import { conflict } from '../../platform/errors';

const LEASE_MS = 10_000;
const WAIT_MS = 5_000;

/**
 * Runs `work` while holding a short claim on one patient (platform/claim.ts, key
 * `patient:<id>`), so two bookings of the same patient cannot both pass the overlap check. A live
 * claim makes the others retry for up to WAIT_MS, then `busy()` (CONFLICT unless the caller says otherwise). Only our own claim is released
 * afterwards, without holding up the answer: the booking is stored by then, and the patient's
 * next booking that comes in that moment retries briefly. A crashed holder's claim expires and is taken over.
 */
export function withPatientLock<T>(
  claims: Claims,
  patientId: string,
  work: () => Promise<T>,
  busy: () => Error = () => conflict('Another booking for this patient is in progress; please try again'),
): Promise<T> {
  return claims.withClaim(`patient:${patientId}`, { leaseMs: LEASE_MS, waitMs: WAIT_MS, busy, releaseInBackground: true }, work);
}
