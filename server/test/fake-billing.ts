import { createServer, type IncomingMessage, type Server } from 'node:http';

export type BillingBehaviour = 'ok' | 'error500' | 'timeout' | 'malformed';

/** A provider billing endpoint on 127.0.0.1 speaking the http adapter's protocol, with a switchable failure mode. */
export async function startFakeBilling() {
  const state = { behaviour: 'ok' as BillingBehaviour, balance: 0, purchases: [] as { credits: number; idempotencyKey: string; auth: string | undefined }[] };
  const seen = new Map<string, string>();
  const readBody = (req: IncomingMessage) =>
    new Promise<string>((resolve) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => resolve(body));
    });
  const server: Server = createServer(async (req, res) => {
    const body = await readBody(req);
    if (state.behaviour === 'timeout') return; // never answers
    if (state.behaviour === 'error500') {
      res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"internal"}');
      return;
    }
    if (state.behaviour === 'malformed') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"transactionId": 42, "cred');
      return;
    }
    if (req.method === 'GET' && req.url?.endsWith('/balance')) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ balance: state.balance }));
      return;
    }
    if (req.method === 'POST' && req.url?.endsWith('/purchases')) {
      const { credits, idempotencyKey } = JSON.parse(body) as { credits: number; idempotencyKey: string };
      let txId = seen.get(idempotencyKey);
      if (!txId) {
        txId = `prov-tx-${seen.size + 1}`;
        seen.set(idempotencyKey, txId);
        state.balance += credits;
        state.purchases.push({ credits, idempotencyKey, auth: req.headers.authorization });
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ transactionId: txId, credits }));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/billing`;
  return {
    url,
    state,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
