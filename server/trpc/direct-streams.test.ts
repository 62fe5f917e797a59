import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../app';
import { consumeCredits } from '../ledger/consume';
import { createTestEnv, signedInCaller, type TestEnv } from '../test/harness';
import { expectLedgerClean, key, newUser } from '../test/ledger-helpers';
import { waitFor } from '../test/wait';
import { directStreamFramesEncoded, directStreamsAnswered } from './direct-streams';
import type { LiveLedgerEvent } from '../../shared/live';

let env: TestEnv;
/** The app writing the live ledger feed itself, and the same app leaving it to tRPC's SSE producer. */
let apps: [FastifyInstance, FastifyInstance];
let urls: [string, string];
let token: string;

beforeAll(async () => {
  env = await createTestEnv();
  const withConfig = (direct: boolean) => buildApp({ ...env.deps, config: { ...env.deps.config, TRPC_DIRECT_CALLS: direct } });
  apps = [await withConfig(true), await withConfig(false)];
  urls = (await Promise.all(
    apps.map(async (app) => {
      await app.listen({ port: 0, host: '127.0.0.1' });
      return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    }),
  )) as [string, string];
  ({ token } = await signedInCaller(env.deps, 'analyst'));
});
afterAll(async () => {
  for (const app of apps) await app.close();
  await env.close();
});

const db = () => env.deps.dbHandle.db;

/** A live stream read as raw bytes: its status, headers, and the frames (each ends "\n\n\n") so far. */
type RawStream = { status: () => number | null; headers: () => http.IncomingHttpHeaders; text: () => string; frames: () => string[]; ended: () => boolean; close: () => void };

function openRaw(baseUrl: string, path: string, input: unknown, headers: Record<string, string> = {}): RawStream {
  let status: number | null = null;
  let resHeaders: http.IncomingHttpHeaders = {};
  let text = '';
  let ended = false;
  const url = new URL(`${baseUrl}/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`);
  const req = http.get(url, { headers: { accept: 'text/event-stream', cookie: `cd_session=${token}`, ...headers } }, (res) => {
    status = res.statusCode ?? null;
    resHeaders = res.headers;
    res.setEncoding('utf8');
    res.on('data', (d: string) => (text += d));
    res.on('end', () => (ended = true));
    res.on('close', () => (ended = true));
  });
  req.on('error', () => (ended = true));
  const frames = () => text.split('\n\n\n').slice(0, -1);
  return { status: () => status, headers: () => resHeaders, text: () => text, frames, ended: () => ended, close: () => req.destroy() };
}

/** What a browser can observe of a stream's answer: status and headers but the date. */
const head = (s: RawStream) => {
  const { date: _date, ...headers } = s.headers();
  return { status: s.status(), headers };
};
const withoutPings = (frames: string[]) => frames.filter((f) => f !== 'event: ping\ndata: ');
/** The transaction ids a data frame carries (a feed's row travels as a tuple, its id first). */
const idsIn = (frame: string): string[] => {
  const data = /^data: (.*)\nid: /s.exec(frame)?.[1];
  return data ? (JSON.parse(data) as LiveLedgerEvent).rows.map((t) => t[0]) : [];
};
const rowIds = (s: RawStream) => withoutPings(s.frames()).flatMap(idsIn);

/** Opens the same stream on both apps and waits until each has sent `frames` frames (pings aside). */
async function pair(path: string, input: unknown, frames: number, headers: Record<string, string> = {}) {
  const before = directStreamsAnswered(apps[0]);
  const streams = urls.map((u) => openRaw(u, path, input, headers)) as [RawStream, RawStream];
  await waitFor(() => streams.every((s) => withoutPings(s.frames()).length >= frames), { what: `${frames} frames on both streams`, timeoutMs: 15_000 });
  return { streams, answeredDirectly: directStreamsAnswered(apps[0]) - before };
}

const consume = (userId: string) => consumeCredits(db(), { userId, credits: 1, enhancementType: 'upscale', idempotencyKey: key() });

describe('[REALTIME] the live ledger feed written without tRPC’s SSE producer is byte for byte tRPC’s stream', () => {
  it('the same headers, connected event, opening rows and each new batch, with the same event ids', async () => {
    const userId = await newUser(db(), 'pro');
    await consume(userId);
    const { streams, answeredDirectly } = await pair('admin.live.ledger', { userId }, 2);
    expect(answeredDirectly).toBe(1);
    expect(head(streams[0])).toEqual(head(streams[1]));
    expect(head(streams[0]).headers).toMatchObject({ 'content-type': 'text/event-stream', 'cache-control': 'no-cache, no-transform', vary: 'trpc-accept, accept' });
    const [connected, opening] = withoutPings(streams[0].frames());
    expect(connected).toBe('event: connected\ndata: {"reconnectAfterInactivityMs":10000}');
    expect(opening).toMatch(/^data: \{"rows":\[\[.+\]\],"opening":true\}\nid: \d+$/);

    await consume(userId);
    await consume(userId);
    await waitFor(() => streams.every((s) => rowIds(s).length >= 3), { what: 'both new charges on both streams' });
    expect(withoutPings(streams[0].frames())).toEqual(withoutPings(streams[1].frames()));
    for (const s of streams) s.close();
    await expectLedgerClean(db());
  });

  it('feeds sending the same batch share one encoded frame, and an unfiltered feed still gets every row', async () => {
    const userId = await newUser(db(), 'pro');
    const { streams } = await pair('admin.live.ledger', {}, 2);
    const third = openRaw(urls[0], 'admin.live.ledger', {});
    await waitFor(() => withoutPings(third.frames()).length >= 2, { what: 'the third feed open' });
    // A first charge seen by every feed: the hub's tail is then past every row the feeds opened with
    // (a batch mixing a row a feed already sent with a new one is filtered per feed, so not shared).
    const first = await consume(userId);
    await waitFor(() => [...streams, third].every((s) => rowIds(s).includes(String(first.transactionId))), { what: 'the first charge on every feed' });
    const encodedBefore = directStreamFramesEncoded();
    const charged = await consume(userId);
    const hasRow = (s: RawStream) => rowIds(s).includes(String(charged.transactionId));
    await waitFor(() => [...streams, third].every(hasRow), { what: 'the charge on every feed' });
    const lastFrame = (s: RawStream) => withoutPings(s.frames()).find((f) => idsIn(f).includes(String(charged.transactionId)));
    expect(lastFrame(third)).toBe(lastFrame(streams[0]));
    expect(lastFrame(streams[0])).toBe(lastFrame(streams[1]));
    // Two direct feeds sent the charge's batch: it was serialised once.
    expect(directStreamFramesEncoded() - encodedBefore).toBe(1);
    for (const s of [...streams, third]) s.close();
  });

  it('a resume with Last-Event-ID sends the rows after it on both paths, the same bytes', async () => {
    const userId = await newUser(db(), 'pro');
    const first = await consume(userId);
    await consume(userId);
    await consume(userId);
    const { streams, answeredDirectly } = await pair('admin.live.ledger', { userId }, 2, { 'last-event-id': String(first.transactionId) });
    expect(answeredDirectly).toBe(1);
    const frames = streams.map((s) => withoutPings(s.frames()));
    expect(frames[0]).toEqual(frames[1]);
    expect(idsIn(frames[0]![1]!)).toHaveLength(2);
    expect(idsIn(frames[0]![1]!)).not.toContain(String(first.transactionId));
    expect(frames[0]![1]).toContain('"opening":false');
    for (const s of streams) s.close();
  });

  it('an idle feed pings after sse.ping.intervalMs, as tRPC’s does', async () => {
    const { streams } = await pair('admin.live.ledger', { userId: 'nobody-here' }, 2);
    await waitFor(() => streams.every((s) => s.frames().includes('event: ping\ndata: ')), { what: 'a ping on both streams', timeoutMs: 15_000 });
    for (const s of streams) s.close();
  });

  it('a stream refused before it streams (no session, bad input) is left to tRPC, with the same answer', async () => {
    for (const [input, headers] of [
      [{}, { cookie: 'cd_session=not-a-session' }],
      [{ userId: 'x'.repeat(500) }, {}],
    ] as const) {
      const { streams, answeredDirectly } = await pair('admin.live.ledger', input, 2, headers);
      expect(answeredDirectly).toBe(0);
      await waitFor(() => streams.every((s) => s.ended()), { what: 'both refusals to end' });
      expect(head(streams[0])).toEqual(head(streams[1]));
      expect(streams[0].text()).toBe(streams[1].text());
      expect(streams[0].text()).toContain('event: serialized-error');
    }
  });

  it('a session that expires mid-stream ends both streams with the same serialized-error', async () => {
    const signed = await signedInCaller(env.deps, 'analyst');
    const { streams } = await pair('admin.live.ledger', { userId: 'nobody-here' }, 2, { cookie: `cd_session=${signed.token}` });
    const id = createHash('sha256').update(signed.token).digest('hex');
    await db().execute(sql`update admin_sessions set expires_at = now() - interval '1 second' where id = ${id}`);
    await waitFor(() => streams.every((s) => s.ended()), { what: 'both streams to close', timeoutMs: 15_000 });
    const last = streams.map((s) => withoutPings(s.frames()).at(-1));
    expect(last[0]).toBe(last[1]);
    expect(last[0]).toMatch(/^event: serialized-error\ndata: \{.*"code":"UNAUTHORIZED"/);
  });

  it('a browser that goes away detaches its feed from the hub', async () => {
    const hub = env.deps.realtime.hub;
    const before = hub.size;
    const s = openRaw(urls[0], 'admin.live.ledger', {});
    await waitFor(() => withoutPings(s.frames()).length >= 2, { what: 'the feed open' });
    expect(hub.size).toBe(before + 1);
    s.close();
    await waitFor(() => hub.size === before, { what: 'the feed detached' });
  });

  it('a direct stream is answered once: no later hook and not tRPC’s handler runs for it, and Fastify has nothing to warn of', async () => {
    const lines: { level: number; msg: string }[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const app = await buildApp({ ...env.deps, log, config: { ...env.deps.config, TRPC_DIRECT_CALLS: true } });
    // A later preHandler runs only for a request whose reply is not yet sent: tRPC's handler would run too.
    const reachedLaterHooks: string[] = [];
    app.addHook('preHandler', async (req) => void reachedLaterHooks.push(req.url));
    try {
      await app.listen({ port: 0, host: '127.0.0.1' });
      const s = openRaw(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, 'admin.live.ledger', {});
      await waitFor(() => withoutPings(s.frames()).length >= 2, { what: 'the feed open' });
      expect(directStreamsAnswered(app)).toBe(1);
      s.close();
      await waitFor(() => s.ended(), { what: 'the stream closed' });
    } finally {
      await app.close();
    }
    expect(reachedLaterHooks).toEqual([]);
    expect(lines.map((l) => l.msg)).toEqual([]);
  });
});
