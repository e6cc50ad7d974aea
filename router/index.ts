import { loadConfigOrExit } from '../platform/config';
import { createLogger } from '../platform/logger';
import { exitOnUnhandledRejection, stopRequests } from '../platform/processExit';
import { startTracing } from '../platform/tracing';
import { startRouter } from './server';

const cfg = loadConfigOrExit('router');
const log = createLogger('router', cfg.LOG_LEVEL);
exitOnUnhandledRejection(log);
let stopTracing: (() => Promise<void>) | null = null;
const stops = stopRequests();
// Tracing first (platform/tracing.ts: only when OTEL_EXPORTER_OTLP_ENDPOINT is set).
startTracing('router')
  .then((stop) => {
    stopTracing = stop;
    return startRouter({ config: cfg, logger: log });
  })
  .then((router) => {
    const shutdown = (signal: string) => {
      log.info({ signal }, 'shutting down');
      router
        .stop()
        .then(() => stopTracing?.())
        .then(
          () => process.exit(0),
          () => process.exit(1),
        );
    };
    stops.onStop(shutdown);
  })
  .catch((err: unknown) => {
    log.fatal({ err: (err as Error).message }, 'router failed to start');
    process.exit(1);
  });
