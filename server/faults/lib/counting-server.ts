import { createServer, type Server } from 'node:http';
import { makeTestPng } from '../../test/fake-providers';

/** What a hostile internal service would answer; no error shown to an admin may contain it. */
export const INTERNAL_BODY = 'INTERNAL-SECRET-aws-credentials';

/**
 * A loopback server standing in for an internal service: counts every TCP connection (the proof
 * that a refused request never reached it), answers /img.png with a PNG and anything else with a
 * 500 whose body is INTERNAL_BODY.
 */
export async function startCountingServer() {
  const png = await makeTestPng();
  const state = { connections: 0 };
  const server: Server = createServer((req, res) => {
    if (req.url?.endsWith('/img.png')) return void res.writeHead(200, { 'content-type': 'image/png' }).end(png);
    res.writeHead(500, { 'content-type': 'text/plain' }).end(INTERNAL_BODY);
  });
  server.on('connection', () => state.connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    state,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
