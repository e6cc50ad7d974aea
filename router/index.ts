import { loadConfigOrExit } from '../platform/config';
import { createLogger } from '../platform/logger';
import { startRouter } from './server';

const cfg = loadConfigOrExit('router');
const log = createLogger('router', cfg.LOG_LEVEL);
startRouter({ config: cfg, logger: log })
  .then((router) => {
    const shutdown = (signal: string) => {
      log.info({ signal }, 'shutting down');
      router.stop().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.once('SIGTERM', shutdown);
    process.once('SIGINT', shutdown);
  })
  .catch((err: unknown) => {
    log.fatal({ err: (err as Error).message }, 'router failed to start');
    process.exit(1);
  });
