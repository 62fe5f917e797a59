import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { waitFor } from '../../test/wait';
import { startFakeProvider, startImageServer, type FakeBehaviour, type FakeKind } from '../../test/fake-providers';
import { MediaStore } from '../media-store';
import { enhancementPrompts, ProviderError, type ProviderConfig, type ProviderErrorKind } from '../types';
import { Outbound } from '../../net/outbound';
import { createProvider } from './index';

// Every fake listens on loopback: both policies must allow it.
const policy = new Outbound({ allowPrivate: true });
let images: Awaited<ReturnType<typeof startImageServer>>;
let mediaDir: string;
let media: MediaStore;

beforeAll(async () => {
  images = await startImageServer();
  mediaDir = await mkdtemp(join(tmpdir(), 'creditdesk-media-'));
  media = new MediaStore(mediaDir, 'http://media.test');
});
afterAll(async () => {
  await images.close();
  await rm(mediaDir, { recursive: true, force: true });
});

async function setup(kind: FakeKind, config: Partial<ProviderConfig> = {}) {
  const fake = await startFakeProvider(kind);
  onTestFinished(fake.close);
  const full: ProviderConfig = { name: `${kind}-test`, kind, baseUrl: fake.url, apiKey: 'sk-test-123', model: null, healthCheckUrl: null, ...config };
  const provider = createProvider(full, { media, urlPolicy: policy, outbound: policy, callbackBase: 'https://creditdesk.example/callbacks' });
  const run = (signal = AbortSignal.timeout(10_000)) => provider.enhanceImage({ imageUrl: images.inputUrl, enhancementType: 'lighting', requestId: 'req-1', signal });
  return { fake, provider, run };
}

async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProviderError);
  return err as ProviderError;
}

const prompt = enhancementPrompts.lighting;

describe('successful enhancements send the real request shape', () => {
  it('fal: submits to the model, polls the status URL, reads the result', async () => {
    const { fake, run } = await setup('fal');
    expect(await run()).toEqual({ outputUrl: `${fake.url}/files/output.png`, providerRequestId: 'fal-1' });
    const [submit, ...rest] = fake.requests;
    expect(submit).toMatchObject({ method: 'POST', path: '/fal-ai/nano-banana/edit', body: { prompt, image_urls: [images.inputUrl], num_images: 1 } });
    expect(submit!.headers.authorization).toBe('Key sk-test-123');
    expect(rest.map((r) => `${r.method} ${r.path}`)).toEqual([...Array(3).fill('GET /fal-ai/nano-banana/edit/requests/fal-1/status'), 'GET /fal-ai/nano-banana/edit/requests/fal-1']);
    expect(rest.every((r) => r.headers.authorization === 'Key sk-test-123')).toBe(true);
  });

  it('fal: uses the configured model', async () => {
    const { fake, run } = await setup('fal', { model: 'fal-ai/other/edit' });
    await run();
    expect(fake.requests[0]!.path).toBe('/fal-ai/other/edit');
  });

  it('kie: creates a task and polls recordInfo', async () => {
    const { fake, run } = await setup('kie');
    expect(await run()).toEqual({ outputUrl: `${fake.url}/files/output.png`, providerRequestId: 'kie-1' });
    const [create, ...polls] = fake.requests;
    expect(create).toMatchObject({
      method: 'POST',
      path: '/api/v1/jobs/createTask',
      body: { model: 'google/nano-banana-edit', input: { prompt, image_urls: [images.inputUrl], output_format: 'png' } },
    });
    expect(create!.headers.authorization).toBe('Bearer sk-test-123');
    expect(polls.map((r) => `${r.method} ${r.path} ${r.headers.authorization}`)).toEqual(Array(3).fill('GET /api/v1/jobs/recordInfo?taskId=kie-1 Bearer sk-test-123'));
  });

  it('nanobanana: generates with the callBackUrl its API requires, then polls record-info', async () => {
    const { fake, run } = await setup('nanobanana');
    expect(await run()).toEqual({ outputUrl: `${fake.url}/files/output.png`, providerRequestId: 'nanobanana-1' });
    const [create, ...polls] = fake.requests;
    expect(create).toMatchObject({ method: 'POST', path: '/api/v1/nanobanana/generate' });
    // enhance.run polls: its callback URL only acknowledges.
    expect(create!.body).toEqual({ prompt, type: 'IMAGETOIAMGE', imageUrls: [images.inputUrl], numImages: 1, callBackUrl: 'https://creditdesk.example/callbacks/nanobanana' });
    expect(create!.headers.authorization).toBe('Bearer sk-test-123');
    expect(polls.map((r) => `${r.method} ${r.path}`)).toEqual(Array(3).fill('GET /api/v1/nanobanana/record-info?taskId=nanobanana-1'));
  });
  it('nanobanana: record-info with the empty strings it documents while a task runs is still pending', async () => {
    const { fake, run } = await setup('nanobanana');
    fake.state.emptyStringsWhileRunning = true;
    expect(await run()).toEqual({ outputUrl: `${fake.url}/files/output.png`, providerRequestId: 'nanobanana-1' });
    expect(fake.requests.filter((r) => r.path.startsWith('/api/v1/nanobanana/record-info'))).toHaveLength(3);
  });
  it.each(['nanobanana', 'kie', 'fal'] as const)('%s: a submitted task is resumed, never submitted again', async (kind) => {
    const { fake, provider } = await setup(kind);
    const tasks: unknown[] = [];
    const first = await provider.enhanceImage({
      imageUrl: images.inputUrl,
      enhancementType: 'lighting',
      requestId: 'r',
      signal: AbortSignal.timeout(10_000),
      task: { callbackUrl: 'https://creditdesk.example/callbacks/x/y?token=t', onSubmitted: (t) => void tasks.push(t) },
    });
    expect(tasks).toHaveLength(1);
    const submits = () => fake.requests.filter((r) => r.method === 'POST').length;
    expect(submits()).toBe(1);
    const again = await provider.enhanceImage({ imageUrl: images.inputUrl, enhancementType: 'lighting', requestId: 'r', signal: AbortSignal.timeout(10_000), task: { resume: tasks[0] as never } });
    expect(again).toEqual(first);
    expect(submits()).toBe(1);
    const create = fake.requests.find((r) => r.method === 'POST')!;
    if (kind === 'fal') expect(create.path).toBe(`/fal-ai/nano-banana/edit?fal_webhook=${encodeURIComponent('https://creditdesk.example/callbacks/x/y?token=t')}`);
    else expect(create.body).toMatchObject({ callBackUrl: 'https://creditdesk.example/callbacks/x/y?token=t' });
  });
  it('google: sends the image inline and stores the returned bytes', async () => {
    const { fake, run } = await setup('google');
    const result = await run();
    expect(result.providerRequestId).toBe('resp-1');
    expect(result.outputUrl).toMatch(/^http:\/\/media\.test\/media\/[0-9a-f-]{36}\.png$/);
    const stored = await readFile(join(mediaDir, basename(result.outputUrl)));
    expect((await sharp(stored).metadata()).format).toBe('png');

    const [call] = fake.requests;
    expect(fake.requests).toHaveLength(1);
    expect(call).toMatchObject({ method: 'POST', path: '/v1beta/models/gemini-2.5-flash-image:generateContent' });
    expect(call!.headers['x-goog-api-key']).toBe('sk-test-123');
    expect(call!.headers.authorization).toBeUndefined();
    const input = Buffer.from(await (await fetch(images.inputUrl)).arrayBuffer()).toString('base64');
    expect(call!.body).toEqual({
      contents: [{ parts: [{ text: prompt }, { inline_data: { mime_type: 'image/png', data: input } }] }],
      generationConfig: { responseModalities: ['IMAGE'] },
    });
  });
});

const kinds: FakeKind[] = ['fal', 'kie', 'nanobanana', 'google'];
const jobFailures: Record<FakeKind, RegExp> = {
  fal: /fal request fal-1 failed: image failed the content checker/,
  kie: /kie task kie-1 failed: content policy violation/,
  nanobanana: /nanobanana task nanobanana-1: generation failed: unsafe content detected/,
  google: /the model returned no image \(finishReason IMAGE_SAFETY; "I cannot edit this image\."\)/,
};
const failures: [FakeBehaviour, ProviderErrorKind, RegExp | null][] = [
  // The status line only: the remote body never reaches an error an admin or analyst reads.
  ['error500', 'http', /answered HTTP 500 Internal Server Error$/],
  ['malformed', 'malformed', /answered an unexpected shape \(.+\)/],
  ['invalid_json', 'malformed', /answered malformed JSON/],
  ['huge_body', 'too_large', /over the \d+-byte limit/],
  ['redirect_private', 'redirect', /answered a redirect \(HTTP 302\); redirects are not followed/],
  ['reset', 'network', /failed: /],
  ['fail_job', 'failed', null],
];

describe.each(kinds)('%s failures', (kind) => {
  it.each(failures)('%s gives a %s error', async (behaviour, errorKind, message) => {
    const { fake, run } = await setup(kind);
    fake.state.behaviour = behaviour;
    // A huge body is tens of megabytes through loopback: on a busy machine that alone can take longer
    // than the usual deadline, and the size limit, not the clock, is what this case proves.
    const err = await failure(run(AbortSignal.timeout(behaviour === 'huge_body' ? 25_000 : 10_000)));
    expect(err.kind).toBe(errorKind);
    expect(err.message).toMatch(message ?? jobFailures[kind]);
  });

  it.each(['timeout', 'slow_body'] as const)('%s stops promptly when the signal fires', async (behaviour) => {
    const { fake, run } = await setup(kind);
    fake.state.behaviour = behaviour;
    const started = Date.now();
    const err = await failure(run(AbortSignal.timeout(300)));
    expect(err.kind).toBe('timeout');
    expect(err.message).toMatch(/timed out/);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('a slow answer past the deadline times out', async () => {
    const { fake, run } = await setup(kind);
    fake.state.delayMs = 5000;
    const started = Date.now();
    expect((await failure(run(AbortSignal.timeout(300)))).kind).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('refuses to run without an API key', async () => {
    const { fake, run } = await setup(kind, { apiKey: null });
    const err = await failure(run());
    expect(err).toMatchObject({ kind: 'failed', message: `provider ${kind}-test has no API key configured` });
    expect(fake.requests).toHaveLength(0);
  });

  it('health: up when it answers, down on 5xx or silence', async () => {
    const { fake, provider } = await setup(kind);
    expect(await provider.healthCheck(AbortSignal.timeout(2000))).toMatchObject({ ok: true, detail: 'HTTP 404' });
    fake.state.behaviour = 'error500';
    expect(await provider.healthCheck(AbortSignal.timeout(2000))).toMatchObject({ ok: false, detail: 'HTTP 500' });
    fake.state.behaviour = 'timeout';
    const down = await provider.healthCheck(AbortSignal.timeout(300));
    expect(down).toMatchObject({ ok: false, detail: 'health check timed out' });
    expect(down.latencyMs).toBeGreaterThanOrEqual(250);
    expect(down.latencyMs).toBeLessThan(1500);
  });
});

describe.each(['fal', 'kie', 'nanobanana'] as const)('%s while polling', (kind) => {
  it('a failure after the job started still fails the attempt', async () => {
    const { fake, run } = await setup(kind);
    fake.state.failAfter = 2;
    fake.state.behaviour = 'reset';
    expect((await failure(run())).kind).toBe('network');
  });

  it('a job that never finishes stops polling when the signal fires', async () => {
    const { fake, run } = await setup(kind);
    fake.state.pollsBeforeDone = 1000;
    const attempt = new AbortController();
    const pending = run(attempt.signal);
    // Fire once polling is under way (a condition, not a guess at how long submitting takes).
    await waitFor(() => fake.requests.length >= 3, { what: 'polling to start' });
    attempt.abort(new DOMException('attempt timed out', 'TimeoutError'));
    const err = await failure(pending);
    expect(err.kind).toBe('timeout');
    // fal's cancel call (PUT) is not a poll.
    const polls = () => fake.requests.filter((r) => r.method !== 'PUT').length;
    const atAbort = polls();
    // Quiet for the adapter's longest gap between polls (1 s): a loop still running would poll again.
    let seen = atAbort;
    let quietSince = Date.now();
    await waitFor(
      () => {
        if (polls() !== seen) [seen, quietSince] = [polls(), Date.now()];
        return Date.now() - quietSince > 1_100;
      },
      { timeoutMs: 20_000, what: 'the provider to go quiet' },
    );
    // At most the poll that was in flight when the signal fired reaches the provider afterwards.
    expect(polls() - atAbort).toBeLessThanOrEqual(1);
    expect(fake.requests.filter((r) => r.method === 'PUT').map((r) => r.path)).toEqual(kind === 'fal' ? ['/fal-ai/nano-banana/edit/requests/fal-1/cancel'] : []);
  });
});

it('health uses healthCheckUrl when set', async () => {
  const { fake, provider } = await setup('kie', { healthCheckUrl: `${images.url}/input.png` });
  expect(await provider.healthCheck(AbortSignal.timeout(2000))).toMatchObject({ ok: true, detail: 'HTTP 200' });
  expect(fake.requests).toHaveLength(0);
});

it('fal refuses status and result URLs on another origin (the key would follow them)', async () => {
  const fake = await startFakeProvider('fal');
  onTestFinished(fake.close);
  // Same server, other origin: the fake answers with 127.0.0.1 URLs while the config says localhost.
  const provider = createProvider(
    { name: 'fal-test', kind: 'fal', baseUrl: fake.url.replace('127.0.0.1', 'localhost'), apiKey: 'k', model: null, healthCheckUrl: null },
    { media, urlPolicy: policy, outbound: policy, callbackBase: 'https://creditdesk.example/callbacks' },
  );
  const err = await failure(provider.enhanceImage({ imageUrl: images.inputUrl, enhancementType: 'color', requestId: 'r', signal: AbortSignal.timeout(5000) }));
  expect(err).toMatchObject({ kind: 'malformed' });
  expect(err.message).toMatch(/status_url on another origin/);
  expect(fake.requests).toHaveLength(1);
});
