import cluster from 'node:cluster';
import closeWithGrace from 'close-with-grace';
import { buildApp } from './app';
import { bootstrapAdmin } from './auth/bootstrap-admin';
import { leadsServer, runPrimary } from './cluster';
import { ConfigError, loadConfig } from './config';
import { closeDeps, createDeps, createLogger } from './deps';
import { listenForRefillKicks } from './pools/refill-kicks';
import { seedProviders } from './providers/seed';

async function main() {
  const config = loadConfig();
  if (config.SERVER_PROCESSES > 1 && cluster.isPrimary) return runPrimary(config.SERVER_PROCESSES, createLogger(config));
  const deps = await createDeps(config);
  const boot = await bootstrapAdmin(deps.dbHandle.db, { email: config.ADMIN_EMAIL, password: config.ADMIN_PASSWORD });
  if (boot?.generatedPassword) {
    // Printed once, to the terminal only: it is not logged and never stored in clear.
    process.stdout.write(`\n  First start: created admin ${boot.email}\n  One-time password: ${boot.generatedPassword}\n  You will be asked to choose your own at the first sign-in.\n\n`);
  } else if (boot) {
    deps.log.info('Created admin %s from ADMIN_EMAIL/ADMIN_PASSWORD', boot.email);
  }

  const seeded = await seedProviders(deps.dbHandle.db);
  if (seeded.length > 0) deps.log.info('Registered providers %s (the paid ones inactive until a key is entered)', seeded.join(', '));

  const app = await buildApp(deps);
  // In a cluster the primary turns SIGINT into one SIGTERM per process (a second signal would cut requests short).
  if (cluster.isWorker) process.on('SIGINT', () => {});
  closeWithGrace({ delay: 10_000, skip: cluster.isWorker ? ['SIGINT'] : [] }, async ({ err, signal }) => {
    if (err) deps.log.error({ err }, 'shutting down after an error');
    else deps.log.info('%s received: finishing in-flight requests', signal);
    await app.close();
    await closeDeps(deps);
  });
  await app.listen({ port: config.PORT, host: config.HOST });
  // Without Redis this process is the only runner; with Redis it works jobs unless told not to. In a
  // cluster only the first process does (the others still upsert the schedules: idempotent), so N
  // processes work jobs at the same concurrency as one; `npm run worker` adds workers.
  const leads = leadsServer();
  await deps.jobs.start({ work: leads && (deps.jobs.mode === 'in-process' || config.WORKER_IN_SERVER) });
  // A refill approved inside a draw's transaction is enqueued from here once that transaction commits (one listener, one job per kick).
  if (leads) await listenForRefillKicks(deps);
  deps.log.info('Creditdesk on %s (database: %s, jobs: %s)', config.publicUrl, deps.dbHandle.kind, deps.jobs.mode);
}

main().catch((err) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
  } else {
    process.stderr.write(`Creditdesk failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  }
  process.exit(1);
});
