import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Webhook } from 'standardwebhooks';

export type ReceivedEvent = { headers: Record<string, string>; raw: string; payload: { type: string; timestamp: string; data: Record<string, unknown> } };

const readBody = (req: IncomingMessage) =>
  new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });

/**
 * A product app's webhook receiver on 127.0.0.1: records every request as received (raw body and
 * headers) and answers `state.status` (200 unless a test makes it fail), or never when `hang`.
 */
export async function startWebhookReceiver() {
  const state = { status: 200, hang: false, received: [] as ReceivedEvent[] };
  // A handler's error still surfaces as an unhandled rejection (it fails the test run), as before.
  const server = createServer((req, res) => void answer(req, res));
  async function answer(req: IncomingMessage, res: ServerResponse) {
    const raw = await readBody(req);
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
    state.received.push({ headers, raw, payload: JSON.parse(raw) as ReceivedEvent['payload'] });
    if (state.hang) return;
    res.writeHead(state.status, { 'content-type': 'text/plain' }).end(state.status < 300 ? 'ok' : 'nope');
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    state,
    url: `http://127.0.0.1:${port}/hooks`,
    /** Requests carrying an event of `type` about `userId` (when given). */
    of: (type: string, userId?: string) => state.received.filter((r) => r.payload.type === type && (userId === undefined || r.payload.data.userId === userId)),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
export type WebhookReceiver = Awaited<ReturnType<typeof startWebhookReceiver>>;

/** Verifies a received request with the Standard Webhooks library; throws if the signature is not right. */
export function verifyReceived(secret: string, r: ReceivedEvent): unknown {
  return new Webhook(secret).verify(r.raw, {
    'webhook-id': r.headers['webhook-id'] ?? '',
    'webhook-timestamp': r.headers['webhook-timestamp'] ?? '',
    'webhook-signature': r.headers['webhook-signature'] ?? '',
  });
}
