import { allow, anyOf, authenticated, deny, internalService, roles, type AccessPolicy, type FieldAudit, type Rule } from '../../platform/authz';
import type { AppointmentDoc } from './model';
import type { Context } from './service';

const admins = roles('SUPER_ADMIN', 'ADMIN');
const staff = roles('SUPER_ADMIN', 'ADMIN', 'NURSE');
const signedIn = anyOf<Context>(authenticated, internalService);
/** Pharmacists have no business with visits. */
const clinicalRoles = roles('SUPER_ADMIN', 'ADMIN', 'NURSE', 'DOCTOR', 'PATIENT');

const isPatient = (ctx: Context, patientId: string | undefined) => ctx.identity.role === 'PATIENT' && !!patientId && ctx.identity.patientId === patientId;
const isDoctor = (ctx: Context, doctorId: string | undefined) => ctx.identity.role === 'DOCTOR' && !!doctorId && ctx.identity.doctorId === doctorId;

/** Row level: staff see all; a patient their own; a doctor the ones with them. */
const canSee: Rule<Context> = anyOf<Context>(staff, internalService, ({ ctx, parent }) => {
  const a = parent as AppointmentDoc;
  return isPatient(ctx, a.patientId) || isDoctor(ctx, a.doctorId);
});

/** Rules about an existing appointment named by `args.id`. */
const appointmentOf = async (ctx: Context, id: unknown) => ctx.loaders.appointment.load(String(id));
const patientOfIt: Rule<Context> = async ({ ctx, args }) => isPatient(ctx, (await appointmentOf(ctx, args.id))?.patientId);
const doctorOfIt: Rule<Context> = async ({ ctx, args }) => isDoctor(ctx, (await appointmentOf(ctx, args.id))?.doctorId);

const input = (args: Record<string, unknown>) => args.input as { patientId?: string; doctorId?: string } | undefined;
/**
 * A patient books for themselves; a doctor books follow-ups with themselves for patients they
 * already treat (booking creates the care relation, so it must not be a way into any record).
 */
const bookingForSelf: Rule<Context> = async ({ ctx, args }) => {
  const i = input(args);
  if (isPatient(ctx, i?.patientId)) return true;
  return isDoctor(ctx, i?.doctorId) && !!i?.patientId && (await ctx.appointments.doctorTreats(i.doctorId!, i.patientId, ctx.requestId));
};

/**
 * A denied (or failed) read of an entity's appointments, audited with the entity's id: allowed ones
 * are audited appointment by appointment by the Appointment guard.
 */
const appointmentsOf = (entityType: 'Patient' | 'Doctor'): FieldAudit => ({
  entityType,
  operation: 'READ',
  entityId: (_a, _r, parent) => String((parent as { id: unknown }).id),
  fields: () => ['appointments'],
});

const audit = (operation: FieldAudit['operation'], fields?: string[]): FieldAudit => ({
  entityType: 'Appointment',
  operation,
  entityId: (a, r) => (a.id ? String(a.id) : r ? String((r as AppointmentDoc)._id) : null),
  ...(fields ? { fields: () => fields } : {}),
});

/** Who may do what with appointments (PHI). Default deny: every field is named. */
export const access: AccessPolicy<Context> = {
  Query: {
    appointment: { rule: clinicalRoles, audit: audit('READ') },
    appointments: { rule: clinicalRoles, audit: audit('READ') },
    availableSlots: authenticated,
  },
  Mutation: {
    bookAppointment: { rule: anyOf<Context>(admins, bookingForSelf), audit: audit('CREATE', ['patient', 'doctor', 'start', 'end', 'reason']) },
    rescheduleAppointment: { rule: anyOf<Context>(admins, patientOfIt, doctorOfIt), audit: audit('UPDATE', ['start', 'end']) },
    cancelAppointment: { rule: anyOf<Context>(admins, patientOfIt, doctorOfIt), audit: audit('UPDATE', ['status', 'cancellationReason']) },
    completeAppointment: { rule: anyOf<Context>(admins, doctorOfIt), audit: audit('UPDATE', ['status', 'conditions', 'notes']) },
    markNoShow: { rule: anyOf<Context>(admins, doctorOfIt), audit: audit('UPDATE', ['status']) },
  },
  // Served by the router (router/subscriptions.ts), which re-reads each event as a query with the
  // subscriber's identity; a subgraph never resolves it.
  Subscription: { appointmentChanged: deny },
  Appointment: {
    __object: canSee,
    __audit: { entityType: 'Appointment', id: (a) => String((a as AppointmentDoc)._id) },
    id: allow,
    patient: allow,
    doctor: allow,
    start: allow,
    end: allow,
    localDate: allow,
    timeZone: allow,
    reason: allow,
    status: allow,
    cancellationReason: allow,
    conditions: allow,
    notes: allow,
    specialty: allow,
    createdAt: allow,
    updatedAt: allow,
  },
  Patient: { __object: signedIn, id: allow, appointments: { rule: anyOf<Context>(clinicalRoles, internalService), audit: appointmentsOf('Patient') } },
  Doctor: { __object: signedIn, id: allow, appointments: { rule: anyOf<Context>(clinicalRoles, internalService), audit: appointmentsOf('Doctor') } },
  Slot: { '*': allow },
  AppointmentEdge: { '*': allow },
  AppointmentConnection: { '*': allow },
  PageInfo: { '*': allow },
};
