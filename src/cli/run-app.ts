// Runs one hookd process in a role until SIGINT or SIGTERM, then stops it cleanly: the
// shared body of `serve`, `api` and `worker`.
import { startApp, type Role } from '../app.ts';
import { loadConfig } from '../config.ts';
import { createLogger } from '../logger.ts';
import { EXIT_OK, configFlags, type Parsed } from './command.ts';

export async function runApp(role: Role, { values }: Parsed): Promise<number> {
  const config = loadConfig({ flags: configFlags(values), loadDotEnv: true });
  const logger = createLogger(config.logLevel);
  const app = await startApp({ config, logger, role });
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info({ signal }, 'shutting down');
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await app.close();
  logger.info('stopped');
  logger.flush?.();
  return EXIT_OK;
}
