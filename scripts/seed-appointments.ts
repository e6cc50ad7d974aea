import { DateTime } from 'luxon';
import { Types, type Model } from 'mongoose';
import { slotsBetween } from '../platform/schedule';
import { newOutbox, outboxEvent } from '../platform/outbox';
import { APPOINTMENT_IMPORTED, slotKeyOf, type AppointmentDoc } from '../subgraphs/appointments/model';
import { DEMO_DOCTORS, DEMO_PATIENTS } from './seed-data';

const CONDITIONS: Record<string, string[]> = {
  Cardiology: ['Hypertension', 'Atrial fibrillation', 'Chest pain', 'Palpitations'],
  Dermatology: ['Eczema', 'Acne', 'Psoriasis', 'Rash'],
  Pediatrics: ['Otitis media', 'Asthma', 'Fever', 'Bronchitis'],
  'General Practice': ['Common cold', 'Back pain', 'Hypertension', 'Fatigue'],
};
const REASONS = ['Check-up', 'Follow-up visit', 'New symptoms', 'Test results', 'Prescription review'];

/**
 * A realistic fortnight around today: the past week's visits completed (some no-shows and
 * cancellations), the coming week's scheduled. Only when the clinic has no appointments yet, so
 * restarting never duplicates. Returns the doctor/patient pairs (for care relations) and a count.
 */
export async function seedAppointments(Appointment: Model<AppointmentDoc>): Promise<{ created: number; pairs: { doctorId: string; patientId: string }[] }> {
  if ((await Appointment.estimatedDocumentCount()) > 0) return { created: 0, pairs: [] };
  const now = DateTime.utc();
  const busy = new Map<string, { start: number; end: number }[]>();
  const docs: Partial<AppointmentDoc>[] = [];
  let n = 0;
  for (const [d, doctor] of DEMO_DOCTORS.entries()) {
    const from = now.minus({ days: 7 }).toJSDate();
    const to = now.plus({ days: 7 }).toJSDate();
    const slots = slotsBetween(doctor.weeklySchedule, doctor.timeZone, from, to, from);
    // About every fifth slot is taken.
    for (let i = d; i < slots.length; i += 5) {
      const slot = slots[i];
      const patient = DEMO_PATIENTS[(i + d) % DEMO_PATIENTS.length];
      const taken = busy.get(patient._id) ?? [];
      if (taken.some((t) => t.start < slot.end.getTime() && t.end > slot.start.getTime())) continue;
      taken.push({ start: slot.start.getTime(), end: slot.end.getTime() });
      busy.set(patient._id, taken);
      n++;
      const past = slot.start.getTime() < now.toMillis();
      const status = !past ? 'SCHEDULED' : n % 11 === 0 ? 'NO_SHOW' : n % 7 === 0 ? 'CANCELLED' : 'COMPLETED';
      const conditions = status === 'COMPLETED' ? [CONDITIONS[doctor.specialty][n % 4]] : [];
      const _id = new Types.ObjectId();
      docs.push({
        _id,
        patientId: patient._id,
        doctorId: doctor._id,
        start: slot.start,
        end: slot.end,
        localDate: DateTime.fromJSDate(slot.start, { zone: doctor.timeZone }).toISODate() ?? '',
        timeZone: doctor.timeZone,
        reason: REASONS[n % REASONS.length],
        status,
        conditions,
        ...(status === 'CANCELLED' ? { cancellationReason: 'Patient called to cancel' } : {}),
        specialty: doctor.specialty,
        slotKey: status === 'CANCELLED' ? `released|${String(_id)}` : slotKeyOf(doctor._id, slot.start),
        // Demo history: no confirmations to send, but analytics counts it (appointments' outbox relay).
        ...newOutbox(outboxEvent(APPOINTMENT_IMPORTED, { appointmentId: String(_id) })),
      });
    }
  }
  await Appointment.insertMany(docs, { ordered: false });
  const pairs = [...new Set(docs.map((a) => `${a.doctorId}|${a.patientId}`))].map((k) => {
    const [doctorId, patientId] = k.split('|');
    return { doctorId, patientId };
  });
  return { created: docs.length, pairs };
}
