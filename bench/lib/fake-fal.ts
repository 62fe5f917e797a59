import { createServer, type IncomingMessage } from 'node:http';
import sharp from 'sharp';

/**
 * A provider "stubbed to answer at once": fal.ai's queue protocol on 127.0.0.1 (submit, status,
 * result; the shapes of server/test/fake-providers.ts), every job COMPLETED on the first poll and
 * its result a URL, so the enhancement costs the gateway's own work and no image processing.
 */
export async function startFakeFal() {
  const counts = { submit: 0, status: 0, result: 0, input: 0, other: 0 };
  // The caller's input: the gateway fetches and decodes it before anything is held.
  const inputPng = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#808080' } })
    .png()
    .toBuffer();
  let ids = 0;
  let origin = '';
  const drain = (req: IncomingMessage) =>
    new Promise<void>((resolve) => {
      req.on('data', () => {});
      req.on('end', resolve);
      req.on('error', resolve);
    });
  const server = createServer((req, res) => {
    void drain(req).then(() => {
      const url = new URL(req.url ?? '/', origin);
      const m = /^(.*)\/requests\/([^/]+)(\/status)?$/.exec(url.pathname);
      let body: unknown;
      if (req.method === 'GET' && url.pathname === '/input.png') {
        counts.input++;
        res.writeHead(200, { 'content-type': 'image/png', 'content-length': inputPng.length }).end(inputPng);
        return;
      }
      if (req.method === 'POST' && !m) {
        counts.submit++;
        const id = `bench-${++ids}`;
        const base = `${origin}${url.pathname}/requests/${id}`;
        body = { request_id: id, status_url: `${base}/status`, response_url: base };
      } else if (req.method === 'GET' && m?.[3]) {
        counts.status++;
        body = { status: 'COMPLETED' };
      } else if (req.method === 'GET' && m) {
        counts.result++;
        body = { images: [{ url: `${origin}/files/${m[2]}.png` }] };
      } else {
        counts.other++;
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
        return;
      }
      const text = JSON.stringify(body);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  origin = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  return {
    url: origin,
    counts,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
