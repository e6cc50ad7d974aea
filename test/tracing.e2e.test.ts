import { randomBytes } from 'node:crypto';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { startTracing } from '../platform/tracing';
import { accountsSubgraph } from '../subgraphs/accounts/index';
import { appointmentsSubgraph } from '../subgraphs/appointments/index';
import { doctorsSubgraph } from '../subgraphs/doctors/index';
import { patientsSubgraph } from '../subgraphs/patients/index';
import { startTestGraph, waitFor, type TestGraph } from './helpers';

/**
 * OpenTelemetry across processes' boundaries (platform/tracing.ts): a client's W3C trace context
 * reaches the router, the router's the subgraphs it fetches from, and a subgraph's the services it
 * calls itself (platform/serviceClient.ts). Every server runs in this jest process, so one
 * in-memory exporter sees all spans; `healthsync.service` says which server made a SERVER span.
 */
const exporter = new InMemorySpanExporter();
let stopTracing: (() => Promise<void>) | null;
let graph: TestGraph;
let admin: string;
const WEEK = ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'];

beforeAll(async () => {
  stopTracing = await startTracing('test', { exporter });
  graph = await startTestGraph([accountsSubgraph, patientsSubgraph, doctorsSubgraph, appointmentsSubgraph]);
  admin = await graph.login(graph.cfg.SUPERADMIN_EMAIL, graph.cfg.SUPERADMIN_PASSWORD);
}, 60_000);
afterAll(async () => {
  await graph.stop();
  await stopTracing?.();
});

const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
const serverSpans = (spans: ReadableSpan[], service: string) => spans.filter((s) => s.kind === SpanKind.SERVER && s.attributes['healthsync.service'] === service);

/** Sends a GraphQL request through the router inside the client's trace `traceId` (W3C traceparent). */
async function tracedRequest(traceId: string, query: string, variables: Record<string, unknown>): Promise<{ data?: Record<string, unknown>; errors?: unknown[] }> {
  const res = await fetch(graph.router.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}`, traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as { data?: Record<string, unknown>; errors?: unknown[] };
}

describe('tracing', () => {
  it('carries one trace from the client through the router to two subgraphs', async () => {
    const traceId = randomBytes(16).toString('hex');
    const res = await tracedRequest(traceId, `query TwoSubgraphs { specialties patients(first: 1) { edges { node { id } } } }`, {});
    expect(res.errors).toBeUndefined();
    const spans = await waitFor(async () => {
      const mine = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
      return serverSpans(mine, 'router').length && serverSpans(mine, 'doctors').length && serverSpans(mine, 'patients').length ? mine : null;
    });
    const ids = new Set(spans.map((s) => s.spanContext().spanId));
    const [router] = serverSpans(spans, 'router');
    // The router's span continues the client's trace; @apollo/gateway's spans hang below it.
    expect(ids.has(parentOf(router)!)).toBe(false);
    const fetches = spans.filter((s) => s.name === 'gateway.fetch');
    expect(fetches.map((s) => s.attributes.service).sort()).toEqual(['doctors', 'patients']);
    // Each subgraph's SERVER span is the child of the router's fetch of it.
    for (const service of ['doctors', 'patients']) {
      const [server] = serverSpans(spans, service);
      const fetch = fetches.find((f) => f.attributes.service === service)!;
      expect(parentOf(server)).toBe(fetch.spanContext().spanId);
    }
  });

  it('carries a booking through appointments into the service it calls itself (patients)', async () => {
    const doctor = await graph.as<{ createDoctor: { id: string } }>(admin, `mutation D($i: CreateDoctorInput!) { createDoctor(input: $i) { id } }`, {
      i: { firstName: 'Tara', lastName: 'Trace', specialty: 'Cardiology', timeZone: 'Europe/Berlin', weeklySchedule: WEEK.map((weekday) => ({ weekday, start: '00:00', end: '23:30', slotMinutes: 30 })) },
    });
    const doctorId = doctor.data!.createDoctor.id;
    const patient = await graph.as<{ registerPatient: { id: string } }>(admin, `mutation P($i: RegisterPatientInput!) { registerPatient(input: $i) { id } }`, {
      i: { firstName: 'Tom', lastName: 'Trace', dateOfBirth: '1980-01-01', sex: 'MALE', email: 'tom.trace@mail.example' },
    });
    const slots = await graph.as<{ availableSlots: { start: string; end: string }[] }>(
      admin,
      `query S($d: ObjectID!, $f: DateTime!, $t: DateTime!) { availableSlots(doctorId: $d, from: $f, to: $t) { start end } }`,
      { d: doctorId, f: new Date(Date.now() + 50 * 3_600_000).toISOString(), t: new Date(Date.now() + 74 * 3_600_000).toISOString() },
    );
    const slot = slots.data!.availableSlots[0];

    const traceId = randomBytes(16).toString('hex');
    const res = await tracedRequest(traceId, `mutation Book($i: BookAppointmentInput!) { bookAppointment(input: $i) { id } }`, {
      i: { patientId: patient.data!.registerPatient.id, doctorId, start: slot.start, end: slot.end, reason: 'Check-up' },
    });
    expect(res.errors).toBeUndefined();
    // Spans reach the exporter in no fixed order: wait until each patients span's callers up to
    // appointments' handling are there too (a missing one times out, and the test fails).
    const spans = await waitFor(async () => {
      const mine = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
      const ids = new Map(mine.map((s) => [s.spanContext().spanId, s]));
      const [handling] = serverSpans(mine, 'appointments');
      const reachesHandling = (server: ReadableSpan) => {
        let span: ReadableSpan | undefined = ids.get(parentOf(server) ?? '');
        while (span && span !== handling) span = ids.get(parentOf(span) ?? '');
        return span !== undefined;
      };
      const patientCalls = serverSpans(mine, 'patients');
      return serverSpans(mine, 'router').length && handling && patientCalls.length && patientCalls.every(reachesHandling) ? mine : null;
    });
    const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]));
    // The router fetched from appointments only; patients (that the patient exists, the care
    // relation) was called by appointments, in a CLIENT span of it. Doctors' answer came from
    // appointments' cache (read for availableSlots).
    expect(spans.filter((s) => s.name === 'gateway.fetch').map((s) => s.attributes.service)).toEqual(['appointments']);
    const calls = serverSpans(spans, 'patients');
    for (const server of calls) {
      const caller = byId.get(parentOf(server)!)!;
      expect(caller.kind).toBe(SpanKind.CLIENT);
      expect(caller.attributes['healthsync.service']).toBe('appointments');
      expect(caller.attributes['healthsync.target']).toBe('patients');
      expect(parentOf(caller)).toBeDefined();
    }
    const [appointments] = serverSpans(spans, 'appointments');
    // Each such CLIENT span lies inside appointments' handling of the booking.
    for (const server of calls) {
      let span: ReadableSpan | undefined = byId.get(parentOf(server)!);
      while (span && span !== appointments) span = byId.get(parentOf(span) ?? '');
      expect(span).toBe(appointments);
    }
  });
});
