import { createReadStream, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app-deps';
import { appRouter } from '../trpc/root';
import { buildOpenApiDocument } from './document';
import { docsCsp, docsInitScript, docsPage } from './docs-page';

const require = createRequire(import.meta.url);
// The API reference's self-contained browser bundle, served from node_modules: no CDN.
const scalarBundle = require.resolve('@scalar/api-reference/browser/standalone.js');
const packageVersion = (JSON.parse(readFileSync(require.resolve('../../package.json'), 'utf8')) as { version: string }).version;

/** `GET /openapi.json` (generated once, at startup, from the router) and the docs page at `/docs`. */
export function registerOpenApiRoutes(app: FastifyInstance, deps: AppDeps) {
  const document = JSON.stringify(buildOpenApiDocument(appRouter, { version: packageVersion, serverUrl: deps.config.PUBLIC_URL?.replace(/\/+$/, '') }));

  app.get('/openapi.json', async (_req, reply) => reply.type('application/json; charset=utf-8').send(document));
  app.get('/docs', async (_req, reply) => reply.type('text/html; charset=utf-8').header('content-security-policy', docsCsp).send(docsPage));
  app.get('/docs/init.js', async (_req, reply) => reply.type('text/javascript; charset=utf-8').send(docsInitScript));
  app.get('/docs/scalar.js', async (_req, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=86400').send(createReadStream(scalarBundle)));
}
