import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../app';
import { createTestEnv, type TestEnv } from '../test/harness';

let env: TestEnv;
let app: FastifyInstance;
beforeAll(async () => {
  env = await createTestEnv();
  app = await buildApp(env.deps);
});
afterAll(async () => {
  await app.close();
  await env.close();
});

describe('[HTTP] error format', () => {
  it('a validation error keeps its reason code and field-naming message for API callers and adds each field error in plain words', async () => {
    const res = await app.inject({ method: 'POST', url: '/trpc/auth.login', payload: { email: 'nope', password: 'x'.repeat(600) } });
    expect(res.statusCode).toBe(400);
    const { error } = res.json<{ error: { message: string; data: Record<string, unknown> } }>();
    expect(error.data.reason).toBe('BAD_REQUEST');
    expect(error.data.fields).toEqual(['email', 'password']);
    expect(error.message).toBe('email: must be a valid email address; password: must be at most 512 characters');
    expect(error.data.fieldErrors).toEqual({ email: 'Must be a valid email address', password: 'Must be at most 512 characters' });
  });

  it('a refusal that is not about a field has no field errors', async () => {
    const res = await app.inject({ method: 'POST', url: '/trpc/auth.login', payload: { email: 'nobody@example.com', password: 'wrong password here' } });
    expect(res.statusCode).toBe(401);
    expect(res.json<{ error: { data: Record<string, unknown> } }>().error.data.fieldErrors).toBeNull();
  });
});
