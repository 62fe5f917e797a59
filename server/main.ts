import closeWithGrace from 'close-with-grace';
import { buildApp } from './app';
import { bootstrapAdmin } from './auth/bootstrap-admin';
import { ConfigError, loadConfig } from './config';
import { closeDeps, createDeps } from './deps';
import { listenForRefillKicks } from './pools/refill-kicks';
import { seedProviders } from './providers/seed';

async function main() {
  const config = loadConfig();
  const deps = await createDeps(config);
  const boot = await bootstrapAdmin(deps.dbHandle.db, { email: config.ADMIN_EMAIL, password: config.ADMIN_PASSWORD });
  if (boot?.generatedPassword) {
    // Printed once, to the terminal only: it is not logged and never stored in clear.
    process.stdout.write(
      `\n  First start: created admin ${boot.email}\n  One-time password: ${boot.generatedPassword}\n  You will be asked to choose your own at the first sign-in.\n\n`,
    );
  } else if (boot) {
    deps.log.info('Created admin %s from ADMIN_EMAIL/ADMIN_PASSWORD', boot.email);
  }

  const seeded = await seedProviders(deps.dbHandle.db);
  if (seeded.length > 0) deps.log.info('Registered providers %s (the paid ones inactive until a key is entered)', seeded.join(', '));

  const app = await buildApp(deps);
  closeWithGrace({ delay: 10_000 }, async ({ err, signal }) => {
    if (err) deps.log.error({ err }, 'shutting down after an error');
    else deps.log.info('%s received: finishing in-flight requests', signal);
    await app.close();
    await closeDeps(deps);
  });
  await app.listen({ port: config.PORT, host: config.HOST });
  // Without Redis this process is the only runner; with Redis it works jobs unless told not to.
  await deps.jobs.start({ work: deps.jobs.mode === 'in-process' || config.WORKER_IN_SERVER });
  // A refill approved inside a draw's transaction is enqueued from here once that transaction commits.
  await listenForRefillKicks(deps);
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
