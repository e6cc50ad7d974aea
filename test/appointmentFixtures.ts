import { Claims, claimsModel } from '../platform/claim';
import { appointmentClaimKey, type AppointmentDoc } from '../subgraphs/appointments/model';
import type { TestGraph } from './helpers';

/**
 * Changes an appointment behind the service's back (a test fixture, e.g. moving a visit into the
 * past, which no mutation allows), holding the claim every change of the appointment takes. Without
 * it, the outbox sweep marking the booking's events handled can rewrite the whole document on
 * FerretDB and undo this change.
 */
export async function setAppointmentFields(graph: TestGraph, id: string, $set: Partial<AppointmentDoc>): Promise<void> {
  const conn = graph.subgraphs.appointments!.conn;
  const claims = new Claims(claimsModel(conn, 'claims'));
  await claims.withClaim(appointmentClaimKey(id), { leaseMs: 10_000, waitMs: 10_000, busy: () => new Error(`appointment ${id} stayed busy`) }, async () => {
    const res = await conn.model<AppointmentDoc>('Appointment').updateOne({ _id: id }, { $set });
    if (res.matchedCount !== 1) throw new Error(`appointment ${id} not found`);
  });
}
