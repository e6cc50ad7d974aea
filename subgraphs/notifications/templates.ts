import { DateTime } from 'luxon';

/** Data a message is personalised with. */
export interface VisitFacts {
  firstName: string;
  doctorName: string;
  specialty: string;
  start: Date;
  /** The zone the patient reads times in. */
  zone: string;
  clinic: string;
}

function when(start: Date, zone: string): { date: string; time: string; zoneName: string } {
  const local = DateTime.fromJSDate(start, { zone });
  return { date: local.toFormat('cccc d LLLL yyyy'), time: local.toFormat('HH:mm'), zoneName: local.toFormat('ZZZZ') };
}

export function appointmentConfirmed(f: VisitFacts): string {
  const w = when(f.start, f.zone);
  return `Hello ${f.firstName}, your appointment with ${f.doctorName} (${f.specialty}) is confirmed for ${w.date} at ${w.time} ${w.zoneName}. ${f.clinic}`;
}

export function appointmentRescheduled(f: VisitFacts): string {
  const w = when(f.start, f.zone);
  return `Hello ${f.firstName}, your appointment with ${f.doctorName} (${f.specialty}) has been moved to ${w.date} at ${w.time} ${w.zoneName}. ${f.clinic}`;
}

export function appointmentCancelled(f: VisitFacts): string {
  const w = when(f.start, f.zone);
  return `Hello ${f.firstName}, your appointment with ${f.doctorName} (${f.specialty}) on ${w.date} at ${w.time} ${w.zoneName} has been cancelled. ${f.clinic}`;
}

export function appointmentReminder(f: VisitFacts): string {
  const w = when(f.start, f.zone);
  return `Reminder for ${f.firstName}: tomorrow, ${w.date} at ${w.time} ${w.zoneName}, you see ${f.doctorName} (${f.specialty}). ${f.clinic}`;
}

export function medicationReminder(f: { firstName: string; medication: string; dosage: string; clinic: string }): string {
  return `Hello ${f.firstName}, it is time for your ${f.medication}: ${f.dosage}. ${f.clinic}`;
}

export function lowStockAlert(f: { medication: string; stockOnHand: number; reorderLevel: number }): string {
  return `Low stock: ${f.medication} is down to ${f.stockOnHand} (reorder level ${f.reorderLevel}). Please reorder.`;
}

/**
 * When the "one day before" reminder goes out: the same wall-clock time on the previous calendar
 * day in the patient's zone (23 or 25 hours before across a daylight-saving change, not 24).
 */
export function reminderTime(start: Date, zone: string): Date {
  return DateTime.fromJSDate(start, { zone }).minus({ days: 1 }).toJSDate();
}
