import closeWithGrace from 'close-with-grace';
import { ConfigError, loadConfig } from './config';
import { closeDeps, createDeps } from './deps';

/** `npm run worker`: a BullMQ worker process; start as many as the load needs. */
async function main() {
  const config = loadConfig();
  const deps = await createDeps(config);
  if (deps.jobs.mode !== 'bullmq') {
    await closeDeps(deps);
    throw new ConfigError('npm run worker needs Redis (set REDIS_URL); without it the server runs jobs in-process.');
  }
  closeWithGrace({ delay: 30_000 }, async ({ err, signal }) => {
    if (err) deps.log.error({ err }, 'worker shutting down after an error');
    else deps.log.info('%s received: finishing running jobs', signal);
    await closeDeps(deps);
  });
  await deps.jobs.start({ work: true });
  deps.log.info('Creditdesk worker started (queue prefix %s)', deps.config.REDIS_PREFIX);
}

main().catch((err) => {
  process.stderr.write(err instanceof ConfigError ? `${err.message}\n` : `Creditdesk worker failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
