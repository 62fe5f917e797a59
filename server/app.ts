import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import fastifyCookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import type { TRPCError } from '@trpc/server';
import { fastifyTRPCPlugin, type FastifyTRPCPluginOptions } from '@trpc/server/adapters/fastify';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { AppDeps } from './app-deps';
import { mediaDir } from './deps';
import { registerRequestLog } from './request-log';
import { registerSecurityHeaders } from './security-headers';
import { registerBootPage } from './spa/boot-page';
import { registerExportRoutes } from './exports/export-routes';
import { registerCallbackRoutes } from './providers/callback-route';
import { registerOpsRoutes } from './ops/ops-routes';
import { registerStripeWebhookRoute } from './payments/stripe-route';
import { registerBrowserCors, varyOnOrigin } from './trpc/browser-cors';
import { registerOpenApiRoutes } from './openapi/routes';
import { createFastifyContext } from './trpc/context';
import { registerDirectCalls } from './trpc/direct-calls';
import { registerDirectStreams } from './trpc/direct-streams';
import { MAX_BATCH_SIZE, MAX_HEADER_BYTES, registerTrpcHttpGuards, trpcClientErrorHandler } from './trpc/http-guards';
import { appRouter, type AppRouter } from './trpc/root';

/**
 * Live streams never end on their own, so on shutdown their connections are cut rather than waited
 * for: a browser sees the connection drop and reconnects (with its last event id) to whichever
 * process answers next, instead of holding the shutdown for its grace period.
 */
function trackLiveStreams(app: FastifyInstance) {
  const streams = new Set<import('node:net').Socket>();
  app.addHook('onRequest', async (req) => {
    if (!req.url.startsWith('/trpc/admin.live.')) return;
    const socket = req.raw.socket;
    streams.add(socket);
    socket.once('close', () => streams.delete(socket));
  });
  app.addHook('preClose', async () => {
    for (const socket of streams) socket.destroy();
  });
}

/**
 * The HTTP host: tRPC at /trpc, its OpenAPI document at /openapi.json (read at /docs), provider
 * callbacks at /callbacks, Stripe's signed events at /webhooks/stripe, CSV exports at /export, /healthz, /livez, /readyz, /metrics, and the built
 * SPA with a history fallback.
 */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  // Typed as Fastify's logger so the instance is a plain FastifyInstance (pino's Logger would widen its generics).
  const logger: FastifyBaseLogger = deps.log;
  const app = Fastify({
    loggerInstance: logger,
    // Only the named proxies may set the client address (throttles and sessions record it).
    trustProxy: deps.config.TRUST_PROXY.length > 0 ? deps.config.TRUST_PROXY : false,
    bodyLimit: 1_048_576,
    clientErrorHandler: trpcClientErrorHandler,
    // A too-long tRPC URL under this is refused by registerTrpcHttpGuards with the connection kept.
    http: { maxHeaderSize: MAX_HEADER_BYTES },
    routerOptions: { maxParamLength: 5_000 },
    // Replaced by registerRequestLog: debug for the ordinary, warn and error for what needs a look.
    logController: new LogController({ disableRequestLogging: true }),
  });
  registerRequestLog(app);

  registerSecurityHeaders(app, { secure: deps.config.secureCookies });
  await app.register(fastifyCookie);
  // Before the guards, so a refusal answered to an allowed origin is readable by its page too.
  await registerBrowserCors(app, deps.config.CORS_ORIGINS);
  registerTrpcHttpGuards(app);

  const onError = ({ error, path: procedure }: { error: TRPCError; path: string | undefined }) => {
    if (error.code === 'INTERNAL_SERVER_ERROR') deps.log.error({ err: error.cause ?? error, procedure }, 'procedure failed');
  };
  const createContext = createFastifyContext(deps);
  if (deps.config.TRPC_DIRECT_CALLS) {
    const direct = { router: appRouter, createContext, extraVary: deps.config.CORS_ORIGINS.length > 0 ? 'Origin' : null, onError };
    registerDirectCalls(app, direct);
    registerDirectStreams(app, direct);
  }
  await app.register(fastifyTRPCPlugin, {
    prefix: '/trpc',
    trpcOptions: {
      router: appRouter,
      maxBatchSize: MAX_BATCH_SIZE,
      createContext,
      ...(deps.config.CORS_ORIGINS.length > 0 ? { responseMeta: varyOnOrigin } : {}),
      onError,
    } satisfies FastifyTRPCPluginOptions<AppRouter>['trpcOptions'],
  });

  registerExportRoutes(app, deps);
  trackLiveStreams(app);
  registerCallbackRoutes(app, deps);
  await registerStripeWebhookRoute(app, deps);

  registerOpsRoutes(app, deps);
  registerOpenApiRoutes(app, deps);

  app.get('/healthz', async (_req, reply) => {
    const database = (await deps.dbHandle.ping()) ? 'up' : 'down';
    const redis = deps.redis ? (deps.redis.status === 'ready' ? 'up' : 'down') : 'disabled';
    const ok = database === 'up' && redis !== 'down';
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'degraded', database, databaseKind: deps.dbHandle.kind, redis });
  });

  // Enhanced images written by the local provider and the Gemini adapter.
  mkdirSync(mediaDir(deps.config), { recursive: true });
  // Cross-origin: product apps show these results in their own pages (helmet's default is same-origin).
  await app.register(fastifyStatic, {
    root: mediaDir(deps.config),
    prefix: '/media/',
    decorateReply: false,
    index: false,
    maxAge: '1d',
    immutable: true,
    setHeaders: (reply) => void reply.header('Cross-Origin-Resource-Policy', 'cross-origin'),
  });

  const staticRoot = path.resolve(deps.config.STATIC_DIR);
  if (existsSync(path.join(staticRoot, 'index.html'))) {
    // Source maps would publish the SPA's source: never served, even when a build left them there.
    // The page itself is the boot page's (it carries a signed-in admin's first answers), not a static file.
    await app.register(fastifyStatic, {
      root: staticRoot,
      wildcard: false,
      globIgnore: ['index.html'],
      allowedPath: (pathName) => !pathName.toLowerCase().endsWith('.map'),
    });
    const page = registerBootPage(app, { staticRoot, createContext, log: deps.log, figuresWaitMs: deps.config.BOOT_FIGURES_WAIT_MS });
    app.setNotFoundHandler((req, reply) => {
      if (req.method === 'GET' && !req.url.startsWith('/trpc') && req.headers.accept?.includes('text/html')) return page.send(req, reply);
      return reply.code(404).send({ error: 'Not Found' });
    });
  } else {
    app.get('/', async (_req, reply) => reply.type('text/plain').send(`The SPA is not built (no ${staticRoot}/index.html): run npm run build.`));
  }
  return app;
}
