import { loadConfigOrExit } from '../platform/config';
import { createLogger } from '../platform/logger';
import { exitOnUnhandledRejection, onParentGone } from '../platform/processExit';
import { startTracing } from '../platform/tracing';
import { startRouter } from './server';

const cfg = loadConfigOrExit('router');
const log = createLogger('router', cfg.LOG_LEVEL);
exitOnUnhandledRejection(log);
let stopTracing: (() => Promise<void>) | null = null;
// Until it runs, a router whose parent is gone just exits; afterwards it shuts down cleanly.
let whenParentGone: () => void = () => process.exit(1);
onParentGone(() => whenParentGone());
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
    process.once('SIGTERM', shutdown);
    process.once('SIGINT', shutdown);
    whenParentGone = () => shutdown('parent gone');
  })
  .catch((err: unknown) => {
    log.fatal({ err: (err as Error).message }, 'router failed to start');
    process.exit(1);
  });
