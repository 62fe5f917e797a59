import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import sharp from 'sharp';

export type FakeKind = 'fal' | 'kie' | 'nanobanana' | 'google';
export type FakeBehaviour =
  'ok' | 'error500' | 'error422' | 'error502' | 'error503' | 'rate_limited' | 'timeout' | 'malformed' | 'invalid_json' | 'slow_body' | 'huge_body' | 'redirect_private' | 'fail_job' | 'reset';
export type RecordedRequest = { method: string; path: string; headers: IncomingHttpHeaders; body: unknown };
type Answer = { status: number; json: unknown };
type Ctx = { origin: string; behaviour: FakeBehaviour; polls: (id: string) => number; newId: () => string; pollsBeforeDone: number; emptyStrings: boolean };
type Misbehaviour = { hugeBytes: number; retryAfter: string | null };

export const METADATA_URL = 'http://169.254.169.254/latest/meta-data';

/** A mid-tone gradient, so any brightening or darkening shows in the mean without clipping. */
export async function makeTestPng(width = 64, height = 48): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) raw.set([60 + Math.round((x / width) * 100), 60 + Math.round((y / height) * 100), 110], (y * width + x) * 3);
  return sharp(raw, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}

/** Each provider's API shape; `malformed` and `fail_job` are the shape-specific misbehaviours. */
const routes: Record<FakeKind, (method: string, url: URL, ctx: Ctx) => Answer | null> = {
  fal(method, url, { origin, behaviour, polls, newId, pollsBeforeDone }) {
    const m = /^(.*)\/requests\/([^/]+)(\/status|\/cancel)?$/.exec(url.pathname);
    if (method === 'POST' && !m) {
      if (behaviour === 'malformed') return { status: 200, json: { request_id: 42 } };
      const id = newId();
      const base = `${origin}${url.pathname}/requests/${id}`;
      return { status: 200, json: { request_id: id, status_url: `${base}/status`, response_url: base, cancel_url: `${base}/cancel` } };
    }
    if (method === 'PUT' && m?.[3] === '/cancel') return { status: 202, json: { status: 'CANCELLATION_REQUESTED' } };
    if (method !== 'GET' || !m) return null;
    if (behaviour === 'malformed') return { status: 200, json: { images: 'none' } };
    if (!m[3]) return { status: 200, json: { images: [{ url: `${origin}/files/output.png` }] } };
    const n = polls(m[2]!);
    if (n <= pollsBeforeDone) return { status: 200, json: { status: n === 1 ? 'IN_QUEUE' : 'IN_PROGRESS' } };
    return { status: 200, json: behaviour === 'fail_job' ? { status: 'COMPLETED', error: 'image failed the content checker' } : { status: 'COMPLETED' } };
  },
  kie(method, url, ctx) {
    return envelopeJob(method, url, ctx, 'api/v1/jobs/createTask', 'api/v1/jobs/recordInfo', (done, fail, id) => ({
      taskId: id,
      state: fail ? 'fail' : done ? 'success' : 'generating',
      resultJson: done && !fail ? JSON.stringify({ resultUrls: [`${ctx.origin}/files/output.png`] }) : '',
      failMsg: fail ? 'content policy violation' : '',
    }));
  },
  nanobanana(method, url, ctx) {
    // While running, the real API may fill what it has not got yet with empty strings.
    const blank = ctx.emptyStrings ? '' : null;
    return envelopeJob(method, url, ctx, 'api/v1/nanobanana/generate', 'api/v1/nanobanana/record-info', (done, fail, id) => ({
      taskId: id,
      successFlag: fail ? 3 : done ? 1 : 0,
      response: done && !fail ? { resultImageUrl: `${ctx.origin}/files/output.png`, originImageUrl: null } : ctx.emptyStrings ? { resultImageUrl: '', originImageUrl: '' } : null,
      errorMessage: fail ? 'unsafe content detected' : blank,
    }));
  },
  google(method, url, { behaviour }) {
    if (method !== 'POST' || !/^\/v1beta\/models\/[^/]+:generateContent$/.test(url.pathname)) return null;
    if (behaviour === 'malformed') return { status: 200, json: { candidates: [{ content: { parts: 'image' } }] } };
    if (behaviour === 'fail_job') return { status: 200, json: { candidates: [{ content: { parts: [{ text: 'I cannot edit this image.' }] }, finishReason: 'IMAGE_SAFETY' }] } };
    const data = outputPng.toString('base64');
    return { status: 200, json: { candidates: [{ content: { parts: [{ text: 'Here it is.' }, { inlineData: { mimeType: 'image/png', data } }] }, finishReason: 'STOP' }], responseId: 'resp-1' } };
  },
};

/** The documented callback body each provider POSTs when a task is done (fal: its queue webhook). */
function callbackBody(kind: FakeKind, taskId: string, outputUrl: string, fail: boolean): unknown {
  switch (kind) {
    case 'nanobanana':
      return fail
        ? { code: 501, msg: 'generation failed', data: { taskId, info: { resultImageUrl: '' } } }
        : { code: 200, msg: 'Image generated successfully.', data: { taskId, info: { resultImageUrl: outputUrl } } };
    case 'kie':
      return {
        code: 200,
        msg: fail ? 'task failed' : 'Playground task completed successfully.',
        data: { taskId, state: fail ? 'fail' : 'success', resultJson: fail ? '' : JSON.stringify({ resultUrls: [outputUrl] }), failMsg: fail ? 'content policy violation' : '' },
      };
    case 'fal':
      return fail
        ? { request_id: taskId, gateway_request_id: taskId, status: 'ERROR', payload: { detail: [{ msg: 'image failed the content checker' }] }, error: 'image failed the content checker' }
        : { request_id: taskId, gateway_request_id: taskId, status: 'OK', payload: { images: [{ url: outputUrl, content_type: 'image/png' }] }, error: null };
    case 'google':
      return null;
  }
}

/** Kie and NanoBanana: { code, msg, data } envelopes around a create call and a polled record. */
function envelopeJob(method: string, url: URL, ctx: Ctx, createPath: string, recordPath: string, record: (done: boolean, fail: boolean, id: string) => unknown): Answer | null {
  const ok = (data: unknown) => ({ status: 200, json: { code: 200, msg: 'success', data } });
  if (method === 'POST' && url.pathname === `/${createPath}`) return ctx.behaviour === 'malformed' ? ok({ id: 7 }) : ok({ taskId: ctx.newId() });
  if (method !== 'GET' || url.pathname !== `/${recordPath}`) return null;
  if (ctx.behaviour === 'malformed') return ok({ state: 'exploded' });
  const done = ctx.polls(url.searchParams.get('taskId') ?? '') > ctx.pollsBeforeDone;
  return ok(record(done, done && ctx.behaviour === 'fail_job', url.searchParams.get('taskId') ?? ''));
}

/** Transport-level misbehaviours, the same for every provider. Returns true when it took over the answer. */
function misbehave(behaviour: FakeBehaviour, res: ServerResponse, { hugeBytes, retryAfter }: Misbehaviour): boolean {
  const json = { 'content-type': 'application/json' };
  switch (behaviour) {
    case 'timeout':
      return true; // never answers
    case 'error500':
      res.writeHead(500, json).end('{"error":"internal"}');
      return true;
    case 'error502':
      res.writeHead(502, json).end('{"error":"bad gateway"}');
      return true;
    case 'error503':
      res.writeHead(503, { ...json, ...(retryAfter === null ? {} : { 'retry-after': retryAfter }) }).end('{"error":"unavailable"}');
      return true;
    case 'rate_limited':
      res.writeHead(429, { ...json, ...(retryAfter === null ? {} : { 'retry-after': retryAfter }) }).end('{"error":"slow down"}');
      return true;
    case 'error422':
      res.writeHead(422, json).end('{"error":"image_url could not be downloaded"}');
      return true;
    case 'invalid_json':
      res.writeHead(200, json).end('{"request_id": "abc", "sta');
      return true;
    case 'redirect_private':
      res.writeHead(302, { location: METADATA_URL }).end();
      return true;
    case 'huge_body':
      // Chunked, no content-length: the client has to count the bytes itself.
      res.writeHead(200, json).end(`{"pad":"${'x'.repeat(hugeBytes)}"}`);
      return true;
    case 'slow_body': {
      res.writeHead(200, json).write('{"');
      const trickle = setInterval(() => res.write('x'), 1000);
      res.on('close', () => clearInterval(trickle));
      return true;
    }
    case 'reset':
      res.writeHead(200, { ...json, 'content-length': '200' }).write('{"code": 200, "da', () => res.socket?.destroy());
      return true;
    default:
      return false;
  }
}

let outputPng: Buffer;

/** A provider API on 127.0.0.1 speaking `kind`'s protocol, recording every request, with switchable failures. */
export async function startFakeProvider(kind: FakeKind) {
  outputPng ??= await makeTestPng(32, 24);
  const state = {
    behaviour: 'ok' as FakeBehaviour,
    /** API requests answered normally before the behaviour starts (e.g. 2: fail while polling). */
    failAfter: 0,
    /** How many API requests misbehave once it started; then it answers normally again. */
    failTimes: Infinity,
    /** The Retry-After header of 429 and 503 answers, none when null. */
    retryAfter: null as string | null,
    delayMs: 0,
    pollsBeforeDone: 2,
    hugeBytes: kind === 'google' ? 26 * 1024 * 1024 : 5 * 1024 * 1024,
    /** NanoBanana's record-info fills the fields of a running task with empty strings. */
    emptyStringsWhileRunning: false,
    /** Call back on its own (the task then done, whatever the polls say) when a callback URL was given. */
    callBack: false,
    /** The callback reports a failed task. */
    callbackFails: false,
  };
  /** Callback URLs the fake was given, by task id, and what our server answered to each callback sent. */
  const callbackUrls = new Map<string, string>();
  const callbacks: { taskId: string; url: string; status: number }[] = [];
  const requests: RecordedRequest[] = [];
  const pollCounts = new Map<string, number>();
  let ids = 0;
  const server = await listen(async (req, res, origin) => {
    const url = new URL(req.url ?? '/', origin);
    if (url.pathname === '/files/output.png') return void res.writeHead(200, { 'content-type': 'image/png' }).end(outputPng);
    const raw = await readBody(req);
    requests.push({ method: req.method ?? '', path: url.pathname + url.search, headers: req.headers, body: parseOrRaw(raw) });
    if (state.delayMs) await new Promise((r) => setTimeout(r, state.delayMs));
    const n = requests.length;
    const behaviour = n > state.failAfter && n <= state.failAfter + state.failTimes ? state.behaviour : 'ok';
    if (misbehave(behaviour, res, state)) return;
    const ctx: Ctx = {
      origin,
      behaviour,
      pollsBeforeDone: state.pollsBeforeDone,
      emptyStrings: state.emptyStringsWhileRunning,
      newId: () => `${kind}-${++ids}`,
      polls: (id) => {
        pollCounts.set(id, (pollCounts.get(id) ?? 0) + 1);
        return pollCounts.get(id)!;
      },
    };
    const answer = routes[kind](req.method ?? '', url, ctx) ?? { status: 404, json: { error: 'not found' } };
    res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.json));
    const taskId = createdTaskId(answer.json);
    const hook = url.searchParams.get('fal_webhook') ?? (parseOrRaw(raw) as { callBackUrl?: string } | null)?.callBackUrl;
    if (req.method === 'POST' && taskId && typeof hook === 'string') {
      callbackUrls.set(taskId, hook);
      if (state.callBack) void sendCallback(taskId);
    }
  });
  /** POSTs the task's documented callback to the URL it was given (a body of the test's choosing with `body`). */
  async function sendCallback(taskId: string, opts: { body?: unknown; url?: string } = {}) {
    const target = opts.url ?? callbackUrls.get(taskId);
    if (!target) throw new Error(`no callback URL for ${taskId}`);
    const body = opts.body ?? callbackBody(kind, taskId, `${server.origin}/files/output.png`, state.callbackFails);
    const res = await fetch(target, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).catch(() => null);
    await res?.body?.cancel();
    callbacks.push({ taskId, url: target, status: res?.status ?? 0 });
    return res?.status ?? 0;
  }
  return { url: server.origin, state, requests, callbacks, callbackUrls, sendCallback, close: server.close };
}

/** Input images on 127.0.0.1: /input.png, /not-image (HTML), /redirect-private, /error500, plus any added with put(). */
export async function startImageServer() {
  const files = new Map<string, { type: string; bytes: Buffer }>([
    ['/input.png', { type: 'image/png', bytes: await makeTestPng() }],
    ['/not-image', { type: 'text/html', bytes: Buffer.from('<html>not an image</html>') }],
  ]);
  const server = await listen(async (req, res) => {
    if (req.url === '/redirect-private') return void res.writeHead(302, { location: METADATA_URL }).end();
    if (req.url === '/error500') return void res.writeHead(500).end('broken');
    const file = files.get(req.url ?? '');
    if (!file) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': file.type, 'content-length': String(file.bytes.length) }).end(file.bytes);
  });
  return {
    url: server.origin,
    inputUrl: `${server.origin}/input.png`,
    put: (path: string, bytes: Buffer, type = 'image/png') => void files.set(path, { type, bytes }),
    close: server.close,
  };
}

async function listen(handler: (req: IncomingMessage, res: ServerResponse, origin: string) => Promise<void>) {
  let origin = '';
  const server: Server = createServer((req, res) => void handler(req, res, origin).catch(() => res.destroy()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  origin = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return { origin, close };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

/** The task id a create/submit answer carries (fal's request_id, the envelope's data.taskId). */
function createdTaskId(json: unknown): string | null {
  const j = json as { request_id?: unknown; data?: { taskId?: unknown } } | null;
  const id = j?.request_id ?? j?.data?.taskId;
  return typeof id === 'string' && !('successFlag' in (j?.data ?? {})) && !('state' in (j?.data ?? {})) ? id : null;
}

function parseOrRaw(raw: string): unknown {
  if (!raw) return null;
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}
