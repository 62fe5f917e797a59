import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../app';
import type { AppDeps } from '../../app-deps';
import type { Answer } from './http-shape';

export type LiveServer = {
  app: FastifyInstance;
  /** `http://127.0.0.1:<port>` */
  origin: string;
  /** Calls one procedure over HTTP: a POST with a JSON body for mutations, a GET for queries. */
  call: (procedure: string, input: unknown, opts?: { query?: boolean; headers?: Record<string, string> }) => Promise<Response>;
  close: () => Promise<void>;
};

/** The real HTTP host on a loopback port, for attacks that must go through Fastify and the tRPC adapter. */
export async function startLiveServer(deps: AppDeps): Promise<LiveServer> {
  const app = await buildApp(deps);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    app,
    origin,
    call: (procedure, input, opts = {}) =>
      opts.query
        ? fetch(`${origin}/trpc/${procedure}?input=${encodeURIComponent(JSON.stringify(input))}`, { headers: opts.headers })
        : fetch(`${origin}/trpc/${procedure}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...opts.headers },
            body: JSON.stringify(input),
          }),
    close: () => app.close(),
  };
}

/** The session token a login answer set, or null. */
export const sessionCookieOf = (res: Response): string | null =>
  res.headers
    .getSetCookie()
    .map((c) => /^cd_session=([^;]+)/.exec(c)?.[1])
    .find((v) => v !== undefined) ?? null;

/** A fetch answer in the shape http-shape.ts checks. */
export async function readAnswer(res: Response): Promise<Answer> {
  const text = await res.text();
  let body: unknown = undefined;
  try {
    body = JSON.parse(text);
  } catch {
    // left undefined: not JSON, which answerProblem reports
  }
  return { status: res.status, body, text };
}
