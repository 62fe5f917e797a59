import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app-deps';
import { settleFromCallback } from './callbacks';

/**
 * Provider callbacks (public: the per-request token in the URL is the credential). `/callbacks/:provider`
 * without an id is the URL enhance.run gives NanoBanana, whose API requires one although run polls:
 * acknowledged, nothing changes.
 */
export function registerCallbackRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.post<{ Params: { provider: string; enhancementId: string }; Querystring: { token?: string } }>('/callbacks/:provider/:enhancementId', async (req, reply) => {
    const answer = await settleFromCallback(deps.gateway, { provider: req.params.provider, enhancementId: req.params.enhancementId, token: req.query.token, body: req.body });
    return reply.code(answer.status).send({ received: answer.status < 300, detail: answer.detail });
  });
  app.post('/callbacks/:provider', async (_req, reply) => reply.code(200).send({ received: true, detail: 'polled; nothing to settle' }));
}
