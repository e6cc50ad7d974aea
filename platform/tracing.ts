import type { RequestHandler } from 'express';
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type TextMapSetter } from '@opentelemetry/api';
// Types only: erased at compile time, so the SDK is not loaded unless tracing starts.
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';

/**
 * OpenTelemetry tracing, on when OTEL_EXPORTER_OTLP_ENDPOINT is set (spans go there over OTLP/HTTP,
 * `<endpoint>/v1/traces`), off otherwise: then the SDK is never loaded, no middleware is mounted and
 * the only cost left is @opentelemetry/api's no-op calls that @apollo/gateway makes anyway.
 *
 * Trace context travels as W3C `traceparent`/`tracestate` headers: a client's into the router, the
 * router's (from @apollo/gateway's fetch span) into every subgraph fetch, a subgraph's into every
 * service-to-service call (platform/serviceClient.ts). Each HTTP server opens a SERVER span for a
 * GraphQL request as a child of the caller's; @apollo/gateway adds its request, plan, execute and
 * fetch spans in the router.
 */
const TRACER = 'healthsync';
let active: { stop(): Promise<void> } | null = null;

export function tracingEnabled(): boolean {
  return active !== null;
}

/**
 * Starts the SDK for this process when OTEL_EXPORTER_OTLP_ENDPOINT is set (or an exporter is
 * given, e.g. tests' in-memory one) and returns a function that flushes and stops it; null when
 * tracing stays off. OTEL_SERVICE_NAME overrides `healthsync-<service>`.
 */
export async function startTracing(service: string, opts: { exporter?: SpanExporter } = {}): Promise<(() => Promise<void>) | null> {
  if (active) return () => Promise.resolve();
  if (!opts.exporter && !process.env.OTEL_EXPORTER_OTLP_ENDPOINT) return null;
  const { NodeTracerProvider } = await import('@opentelemetry/sdk-trace-node');
  const { BatchSpanProcessor, SimpleSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
  const { resourceFromAttributes } = await import('@opentelemetry/resources');
  const processor = opts.exporter
    ? new SimpleSpanProcessor(opts.exporter)
    : new BatchSpanProcessor(new (await import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter());
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': process.env.OTEL_SERVICE_NAME ?? `healthsync-${service}` }),
    spanProcessors: [processor],
  });
  // The AsyncLocalStorage context manager and the W3C trace-context (and baggage) propagator.
  provider.register();
  const stop = async () => {
    if (active !== handle) return;
    active = null;
    await provider.shutdown();
    trace.disable();
    propagation.disable();
    context.disable();
  };
  const handle = { stop };
  active = handle;
  return stop;
}

/**
 * Opens a SERVER span for each request, as a child of the caller's trace context, and runs the
 * rest of the request in it. Mount it right before the GraphQL handler, after the body parser
 * (whose stream callbacks would otherwise run outside the span's context). Null when tracing is off.
 */
export function traceRequests(service: string): RequestHandler | null {
  if (!tracingEnabled()) return null;
  const tracer = trace.getTracer(TRACER);
  return (req, res, next) => {
    const parent = propagation.extract(ROOT_CONTEXT, req.headers);
    const span = tracer.startSpan(
      `${req.method} ${req.baseUrl || req.path}`,
      { kind: SpanKind.SERVER, attributes: { 'healthsync.service': service, 'http.request.method': req.method, 'url.path': req.originalUrl.split('?')[0] } },
      parent,
    );
    res.once('close', () => {
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    context.with(trace.setSpan(parent, span), next);
  };
}

const recordSetter: TextMapSetter<Record<string, string>> = { set: (carrier, key, value) => void (carrier[key] = value) };

/**
 * Runs an outgoing call in a CLIENT span and adds its trace context to `headers`; when tracing is
 * off, just runs it.
 */
export async function tracedCall<T>(name: string, attributes: Record<string, string>, headers: Record<string, string>, call: () => Promise<T>): Promise<T> {
  if (!tracingEnabled()) return call();
  return trace.getTracer(TRACER).startActiveSpan(name, { kind: SpanKind.CLIENT, attributes }, async (span) => {
    propagation.inject(context.active(), headers, recordSetter);
    try {
      return await call();
    } catch (err) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      throw err;
    } finally {
      span.end();
    }
  });
}

/** Adds the active trace context to a Fetch API `Headers` (router → subgraph); nothing when tracing is off. */
export function injectTraceContext(headers: { set(key: string, value: string): void }): void {
  if (!tracingEnabled()) return;
  propagation.inject(context.active(), headers, { set: (carrier, key, value) => carrier.set(key, value) });
}
