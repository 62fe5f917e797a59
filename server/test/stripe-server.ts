import type { FastifyInstance } from 'fastify';
import { buildApp } from '../app';
import { apiKeyCaller, createTestEnv, signedInCaller, type TestEnv } from './harness';
import { TEST_STRIPE_SECRET } from './stripe-events';

/** A real server on a port of its own, with the test signing secret, an admin and a users:write key: what Stripe's events are POSTed to. */
export async function startStripeServer() {
  const env: TestEnv = await createTestEnv({ STRIPE_WEBHOOK_SECRET: TEST_STRIPE_SECRET });
  const app: FastifyInstance = await buildApp(env.deps);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const admin = (await signedInCaller(env.deps, 'admin')).caller;
  const users = (await apiKeyCaller(env.deps, ['users:write'])).caller;
  const close = async () => {
    await app.close();
    await env.close();
  };
  return { env, base, admin, users, close };
}
export type StripeServer = Awaited<ReturnType<typeof startStripeServer>>;
