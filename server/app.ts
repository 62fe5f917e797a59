import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import fastifyCookie from '@fastify/cookie';
import fastifyHelmet from '@fastify/helmet';
import fastifyStatic from '@fastify/static';
import { fastifyTRPCPlugin, type FastifyTRPCPluginOptions } from '@trpc/server/adapters/fastify';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { AppDeps } from './app-deps';
import { mediaDir } from './deps';
import { registerRequestLog } from './request-log';
import { registerExportRoutes } from './exports/export-routes';
import { registerOpenApiRoutes } from './openapi/routes';
import { createFastifyContext } from './trpc/context';
import { MAX_BATCH_SIZE, registerTrpcHttpGuards, trpcClientErrorHandler } from './trpc/http-guards';
import { appRouter, type AppRouter } from './trpc/root';

/** The HTTP host: tRPC at /trpc, its OpenAPI document at /openapi.json (read at /docs), CSV exports at /export, /healthz, and the built SPA with a history fallback. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    // Only the named proxies may set the client address (throttles and sessions record it).
    trustProxy: deps.config.TRUST_PROXY.length > 0 ? deps.config.TRUST_PROXY : false,
    bodyLimit: 1_048_576,
    clientErrorHandler: trpcClientErrorHandler,
    routerOptions: { maxParamLength: 5_000 },
    // Replaced by registerRequestLog: debug for the ordinary, warn and error for what needs a look.
    logController: new LogController({ disableRequestLogging: true }),
  });
  registerRequestLog(app);

  await app.register(fastifyHelmet, {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:', 'blob:', 'https:', 'http:'],
        connectSrc: ["'self'"],
        frameAncestors: ["'none'"],
        upgradeInsecureRequests: deps.config.secureCookies ? [] : null,
      },
    },
    strictTransportSecurity: deps.config.secureCookies,
  });
  await app.register(fastifyCookie);
  registerTrpcHttpGuards(app);

  await app.register(fastifyTRPCPlugin, {
    prefix: '/trpc',
    trpcOptions: {
      router: appRouter,
      maxBatchSize: MAX_BATCH_SIZE,
      createContext: createFastifyContext(deps),
      onError({ error, path: procedure }) {
        if (error.code === 'INTERNAL_SERVER_ERROR') deps.log.error({ err: error.cause ?? error, procedure }, 'procedure failed');
      },
    } satisfies FastifyTRPCPluginOptions<AppRouter>['trpcOptions'],
  });

  registerExportRoutes(app, deps);
  registerOpenApiRoutes(app, deps);

  app.get('/healthz', async (_req, reply) => {
    const database = (await deps.dbHandle.ping()) ? 'up' : 'down';
    const redis = deps.redis ? (deps.redis.status === 'ready' ? 'up' : 'down') : 'disabled';
    const ok = database === 'up' && redis !== 'down';
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'degraded', database, databaseKind: deps.dbHandle.kind, redis });
  });

  // Enhanced images written by the local provider and the Gemini adapter.
  mkdirSync(mediaDir(deps.config), { recursive: true });
  await app.register(fastifyStatic, { root: mediaDir(deps.config), prefix: '/media/', decorateReply: false, index: false, maxAge: '1d', immutable: true });

  const staticRoot = path.resolve(deps.config.STATIC_DIR);
  if (existsSync(path.join(staticRoot, 'index.html'))) {
    // Source maps would publish the SPA's source: never served, even when a build left them there.
    await app.register(fastifyStatic, { root: staticRoot, wildcard: false, allowedPath: (pathName) => !pathName.toLowerCase().endsWith('.map') });
    app.setNotFoundHandler((req, reply) => {
      if (req.method === 'GET' && !req.url.startsWith('/trpc') && req.headers.accept?.includes('text/html')) {
        return reply.type('text/html').sendFile('index.html');
      }
      return reply.code(404).send({ error: 'Not Found' });
    });
  } else {
    app.get('/', async (_req, reply) =>
      reply.type('text/plain').send(`The SPA is not built (no ${staticRoot}/index.html): run npm run build.`),
    );
  }
  return app;
}
