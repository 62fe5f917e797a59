/**
 * The HTTP floor: a bare node:http server in its own process, as the app's server is, that reads
 * the same JSON bodies and runs the same SQL as the raw-SQL floors (postgres.js, prepared, a pool
 * the size of the server's), answering in tRPC's shape so the benchmark's HTTP ops drive it
 * unchanged. No framework, no authentication, no validation: what is left of the app's time above
 * this is the cost of its request path. Prints its URL on stdout once listening.
 */
import http from 'node:http';
import postgres from 'postgres';
import { consumeStatement, enhanceStatements } from './ops';

const databaseUrl = process.env.DATABASE_URL;
const provider = process.env.BARE_PROVIDER ?? '';
if (!databaseUrl) throw new Error('DATABASE_URL is required');
const sql = postgres(databaseUrl, { max: Number(process.env.DATABASE_POOL_MAX ?? 20), onnotice: () => {}, connection: { jit: 'off' } });

type Body = { userId?: unknown };

async function answer(path: string, body: Body): Promise<unknown> {
  if (typeof body.userId !== 'string') throw new Error('userId is required');
  if (path === '/trpc/credits.consume') {
    const row = await consumeStatement(sql, body.userId);
    return { transactionId: row.id, remainingBalance: row.balance_after, source: 'user_credits' };
  }
  if (path === '/trpc/enhance.run') return enhanceStatements(sql, body.userId, provider);
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
    answer(req.url ?? '', JSON.parse(Buffer.concat(chunks).toString('utf8')) as Body).then(
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
