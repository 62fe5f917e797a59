/**
 * The live benchmark's subscribers, in a process of their own so their CPU (200 browsers, which
 * in production run elsewhere) is measured apart from the load generator's and the server's.
 * Each stream is read the cheapest way that still counts what arrived: node:http, and the bytes
 * scanned for tRPC's SSE event ids (`\nid: `, which every live event carries) without parsing the
 * JSON, so the reader's own CPU takes as little as it can of the two cores the server needs.
 * Prints `open <n>` once every stream sent its opening event, and on SIGTERM `events <n>` (the
 * events and bytes received after opening) and exits.
 */
import http from 'node:http';

const baseUrl = new URL(process.env.LIVE_URL!);
const cookie = process.env.LIVE_COOKIE!;
const count = Number(process.env.SUBSCRIBERS ?? 200);
const EVENT_ID = Buffer.from('\nid: ');
const ERROR_EVENT = Buffer.from('event: serialized-error');

/** 100 unfiltered ledger feeds (every charge goes to each), 50 figure streams, 50 feeds filtered to a user outside the load. */
const streamFor = (i: number): [string, unknown] => (i % 4 < 2 ? ['admin.live.ledger', {}] : i % 4 === 2 ? ['admin.live.figures', {}] : ['admin.live.ledger', { userId: 'nobody-in-the-load' }]);

type Stream = { events: number; bytes: number; failed: string | null; request: http.ClientRequest };

function open(path: string, input: unknown): Stream {
  const s: Stream = { events: 0, bytes: 0, failed: null, request: null as unknown as http.ClientRequest };
  const agent = new http.Agent({ keepAlive: false });
  s.request = http.get(
    { host: baseUrl.hostname, port: baseUrl.port, path: `/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`, agent, headers: { accept: 'text/event-stream', cookie } },
    (res) => {
      if (res.statusCode !== 200) s.failed = `HTTP ${res.statusCode}`;
      let tail: Buffer = Buffer.alloc(0);
      res.on('data', (chunk: Buffer) => {
        s.bytes += chunk.length;
        const buf: Buffer = tail.length ? Buffer.concat([tail, chunk]) : chunk;
        for (let at = buf.indexOf(EVENT_ID); at >= 0; at = buf.indexOf(EVENT_ID, at + EVENT_ID.length)) s.events += 1;
        if (buf.includes(ERROR_EVENT)) s.failed = buf.toString('utf8', 0, Math.min(buf.length, 500));
        tail = buf.subarray(Math.max(0, buf.length - EVENT_ID.length + 1));
      });
      res.on('end', () => (s.failed ??= 'the stream ended'));
    },
  );
  s.request.on('error', (err) => (s.failed ??= err.message));
  return s;
}

async function main() {
  const streams = Array.from({ length: count }, (_, i) => open(...streamFor(i)));
  const deadline = Date.now() + 60_000;
  while (streams.some((s) => s.events === 0 && !s.failed)) {
    if (Date.now() > deadline) throw new Error('the live streams did not send their opening events');
    await new Promise((r) => setTimeout(r, 50));
  }
  const refused = streams.filter((s) => s.failed);
  if (refused.length) throw new Error(`${refused.length} streams did not open: ${refused[0]!.failed}`);
  const opening = streams.reduce((n, s) => n + s.events, 0);
  const openingBytes = streams.reduce((n, s) => n + s.bytes, 0);
  process.stdout.write(`open ${streams.length}\n`);
  process.once('SIGTERM', () => {
    const failed = streams.filter((s) => s.failed);
    const events = streams.reduce((n, s) => n + s.events, 0) - opening;
    const bytes = streams.reduce((n, s) => n + s.bytes, 0) - openingBytes;
    for (const s of streams) s.request.destroy();
    const line = failed.length ? `failed ${failed.length}: ${failed[0]!.failed}\n` : `events ${events} bytes ${bytes}\n`;
    process.stdout.write(line, () => process.exit(0));
  });
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
