/**
 * The HTTP floor: a bare node:http server in its own process, as the app's server is, that reads
 * the same JSON bodies and runs the same SQL as the raw-SQL floors (postgres.js, prepared, a pool
 * the size of the server's), answering in tRPC's shape so the benchmark's HTTP ops drive it
 * unchanged. No framework, no authentication, no validation: what is left of the app's time above
 * this is the cost of its request path. Prints its URL on stdout once listening.
 *
 * A request with the `x-bare-calls` header also makes the provider's calls (a diagnostic, not the
 * goal's floor): enhance.run's four HTTP calls to the stub, see `providerCalls`.
 */
import http from 'node:http';
import postgres from 'postgres';
import { Agent, request } from 'undici';
import { consumeStatement, enhanceStatements } from './ops';

const databaseUrl = process.env.DATABASE_URL;
const provider = process.env.BARE_PROVIDER ?? '';
if (!databaseUrl) throw new Error('DATABASE_URL is required');
const sql = postgres(databaseUrl, { max: Number(process.env.DATABASE_POOL_MAX ?? 20), onnotice: () => {}, connection: { jit: 'off' } });

type Body = { userId?: unknown; inputImageUrl?: unknown };

// One keep-alive agent for the stub, as the app's outbound client has.
const agent = new Agent({ keepAliveTimeout: 60_000 });
const call = async (url: string, method: 'GET' | 'POST', body?: string) => {
  const res = await request(url, { method, body, dispatcher: agent, headers: body ? { 'content-type': 'application/json' } : {} });
  if (res.statusCode !== 200) throw new Error(`${method} ${url}: HTTP ${res.statusCode}`);
  return res.body;
};

/**
 * What enhance.run sends a provider, in the gateway's order and with the cheapest client (undici's
 * request API, as the app's): the caller's input image read in full before anything is held, then,
 * between the opening and the call record, fal's submit, status and result, each answer parsed.
 * Without the app's checks around them (the address policy, sharp's header read, zod's shapes).
 */
const providerCalls = (inputImageUrl: string) => ({
  input: async () => {
    await (await call(inputImageUrl, 'GET')).arrayBuffer();
  },
  enhance: async () => {
    const submitUrl = new URL('/fal-ai/bench/edit', inputImageUrl).href;
    const job = (await (await call(submitUrl, 'POST', JSON.stringify({ image_urls: [inputImageUrl] }))).json()) as { status_url: string; response_url: string };
    const status = (await (await call(job.status_url, 'GET')).json()) as { status: string };
    if (status.status !== 'COMPLETED') throw new Error(`the stub answered ${status.status}`);
    const result = (await (await call(job.response_url, 'GET')).json()) as { images: { url: string }[] };
    return result.images[0]!.url;
  },
});

async function answer(path: string, body: Body, withCalls: boolean): Promise<unknown> {
  if (typeof body.userId !== 'string') throw new Error('userId is required');
  if (path === '/trpc/credits.consume') {
    const row = await consumeStatement(sql, body.userId);
    return { transactionId: row.id, remainingBalance: row.balance_after, source: 'user_credits' };
  }
  if (path === '/trpc/enhance.run') {
    if (!withCalls) return enhanceStatements(sql, body.userId, provider);
    if (typeof body.inputImageUrl !== 'string') throw new Error('inputImageUrl is required');
    const calls = providerCalls(body.inputImageUrl);
    await calls.input();
    return enhanceStatements(sql, body.userId, provider, calls.enhance);
  }
  throw new Error(`no route ${path}`);
}

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const reply = (status: number, payload: unknown) => {
      const text = JSON.stringify(payload);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    answer(req.url ?? '', JSON.parse(Buffer.concat(chunks).toString('utf8')) as Body, req.headers['x-bare-calls'] !== undefined).then(
      (data) => reply(200, { result: { data } }),
      (err: Error) => reply(500, { error: { message: err.message } }),
    );
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  if (addr && typeof addr === 'object') process.stdout.write(`listening http://127.0.0.1:${addr.port}\n`);
});
process.on('SIGTERM', () => {
  server.close();
  void sql.end({ timeout: 5 }).then(() => process.exit(0));
});
