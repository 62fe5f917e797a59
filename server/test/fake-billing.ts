import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/**
 * `timeout`, `error500`, `malformed` and `reset` answer every route that way without buying.
 * `refuse` answers a purchase 402 without buying. The `record_then_*` ones buy (once per
 * idempotency key) and then hang, reset the connection or answer 500: the outcome is unknown to the caller.
 */
export type BillingBehaviour = 'ok' | 'error500' | 'timeout' | 'malformed' | 'reset' | 'refuse' | 'record_then_hang' | 'record_then_reset' | 'record_then_500';

/** The status lookup (GET /purchases/{key}): answers, hangs, or answers 500. */
export type LookupBehaviour = 'ok' | 'hang' | 'error500';

/** Put in every error body: what we store about a failure must never contain it. */
export const REMOTE_BODY_MARKER = 'remote-billing-body-detail';

type Bought = { transactionId: string; credits: number; idempotencyKey: string; auth: string | undefined };

/** A provider billing endpoint on 127.0.0.1 speaking the http adapter's protocol, with switchable failure modes. */
export async function startFakeBilling() {
  const state = {
    behaviour: 'ok' as BillingBehaviour,
    /** Behaviours for the next purchase calls, taken first, one per call. */
    script: [] as BillingBehaviour[],
    lookup: 'ok' as LookupBehaviour,
    balance: 0,
    /** Purchases the provider made: one per idempotency key. */
    purchases: [] as Bought[],
    /** Every purchase call received, repeats included. */
    purchaseCalls: [] as { idempotencyKey: string }[],
    lookups: [] as string[],
  };
  const byKey = new Map<string, Bought>();
  const readBody = (req: IncomingMessage) =>
    new Promise<string>((resolve) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => resolve(body));
    });
  const json = (res: ServerResponse, status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  const remoteError = (res: ServerResponse, status: number) => json(res, status, { error: `internal ${REMOTE_BODY_MARKER}` });

  function buy(credits: number, idempotencyKey: string, auth: string | undefined): Bought {
    let bought = byKey.get(idempotencyKey);
    if (!bought) {
      bought = { transactionId: `prov-tx-${byKey.size + 1}`, credits, idempotencyKey, auth };
      byKey.set(idempotencyKey, bought);
      state.balance += credits;
      state.purchases.push(bought);
    }
    return bought;
  }

  // A handler's error still surfaces as an unhandled rejection (it fails the test run), as before.
  const server: Server = createServer((req, res) => void answer(req, res));
  async function answer(req: IncomingMessage, res: ServerResponse) {
    const body = await readBody(req);
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const lookup = req.method === 'GET' && /\/purchases\/[^/]+$/.test(path);
    const purchase = req.method === 'POST' && path.endsWith('/purchases');
    const asked = purchase ? (JSON.parse(body) as { credits: number; idempotencyKey: string }) : null;
    if (asked) state.purchaseCalls.push({ idempotencyKey: asked.idempotencyKey });
    const behaviour = purchase ? (state.script.shift() ?? state.behaviour) : state.behaviour;
    if (behaviour === 'timeout') return; // never answers
    if (behaviour === 'reset') return void req.socket.destroy();
    if (behaviour === 'error500') return void remoteError(res, 500);
    if (behaviour === 'malformed') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"transactionId": 42, "cred');
    if (req.method === 'GET' && path.endsWith('/balance')) return void json(res, 200, { balance: state.balance });
    if (lookup) {
      const key = decodeURIComponent(path.split('/').at(-1)!);
      state.lookups.push(key);
      if (state.lookup === 'hang') return;
      if (state.lookup === 'error500') return void remoteError(res, 500);
      const bought = byKey.get(key);
      return void (bought ? json(res, 200, { transactionId: bought.transactionId, credits: bought.credits }) : json(res, 404, { error: 'no such purchase' }));
    }
    if (asked) {
      const { credits, idempotencyKey } = asked;
      if (behaviour === 'refuse') return void json(res, 402, { error: `payment method declined ${REMOTE_BODY_MARKER}` });
      const bought = buy(credits, idempotencyKey, req.headers.authorization);
      if (behaviour === 'record_then_hang') return;
      if (behaviour === 'record_then_reset') return void req.socket.destroy();
      if (behaviour === 'record_then_500') return void remoteError(res, 500);
      return void json(res, 200, { transactionId: bought.transactionId, credits });
    }
    res.writeHead(404).end();
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/billing`;
  return {
    url,
    state,
    /** The provider's purchases under one idempotency key (a request's key is creditdesk-refill-<id>). */
    purchasesFor: (idempotencyKey: string) => state.purchases.filter((p) => p.idempotencyKey === idempotencyKey),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
