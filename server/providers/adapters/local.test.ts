import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnhancementType } from '../../../shared/credits';
import { makeTestPng, startImageServer } from '../../test/fake-providers';
import { Outbound } from '../../net/outbound';
import { MediaStore } from '../media-store';
import { ProviderError } from '../types';
import { applyCssFilterLook, LocalProvider } from './local';

let images: Awaited<ReturnType<typeof startImageServer>>;
let mediaDir: string;
let media: MediaStore;

beforeAll(async () => {
  images = await startImageServer();
  mediaDir = await mkdtemp(join(tmpdir(), 'creditdesk-local-'));
  // A directory that does not exist yet: the store creates it.
  media = new MediaStore(join(mediaDir, 'media'), 'http://media.test/');
});
afterAll(async () => {
  await images.close();
  await rm(mediaDir, { recursive: true, force: true });
});

const provider = () => new LocalProvider('local', media, new Outbound({ allowPrivate: true }));
const enhance = (imageUrl: string, enhancementType: EnhancementType = 'lighting', p = provider()) =>
  p.enhanceImage({ imageUrl, enhancementType, requestId: 'req-1', signal: AbortSignal.timeout(10_000) });

async function stored(url: string) {
  expect(url).toMatch(/^http:\/\/media\.test\/media\/[0-9a-f-]{36}\.png$/);
  return readFile(join(mediaDir, 'media', basename(url)));
}

/** Mean of the RGB channel means: a simple brightness measure. */
async function meanBrightness(bytes: Buffer) {
  const { channels } = await sharp(bytes).stats();
  return channels.slice(0, 3).reduce((sum, c) => sum + c.mean, 0) / 3;
}

async function failure(promise: Promise<unknown>) {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProviderError);
  return err as ProviderError;
}

describe('local provider', () => {
  it('lighting brightens the image and keeps its size', async () => {
    const input = await makeTestPng();
    const result = await enhance(images.inputUrl);
    expect(result.providerRequestId).toBeNull();
    const output = await stored(result.outputUrl);
    const meta = await sharp(output).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 64, 48]);
    expect(await meanBrightness(output)).toBeGreaterThan((await meanBrightness(input)) + 10);
  });

  it('upscale doubles the size, capped at 2048 px on the long edge', async () => {
    const output = await stored((await enhance(images.inputUrl, 'upscale')).outputUrl);
    expect(await sharp(output).metadata()).toMatchObject({ width: 128, height: 96 });

    images.put(
      '/wide.png',
      await sharp({ create: { width: 3000, height: 10, channels: 3, background: '#888' } })
        .png()
        .toBuffer(),
    );
    const wide = await stored((await enhance(`${images.url}/wide.png`, 'upscale')).outputUrl);
    expect(await sharp(wide).metadata()).toMatchObject({ width: 2048, height: 7 });
  });

  it.each(['color', 'sharpen', 'denoise', 'style'] as const)('%s produces a same-size PNG', async (type) => {
    const output = await stored((await enhance(images.inputUrl, type)).outputUrl);
    expect(await sharp(output).metadata()).toMatchObject({ format: 'png', width: 64, height: 48 });
  });

  it('refuses a URL that is not an image', async () => {
    const err = await failure(enhance(`${images.url}/not-image`));
    expect(err).toMatchObject({ kind: 'malformed', message: 'the URL is not a supported image (content-type text/html)' });
  });

  it('refuses a private address unless private URLs are allowed', async () => {
    const strict = new LocalProvider('local', media, new Outbound({ allowPrivate: false }));
    const err = await failure(enhance(images.inputUrl, 'lighting', strict));
    expect(err.kind).toBe('refused_url');
    expect(err.message).toMatch(/127\.0\.0\.1 is a loopback address; private and reserved addresses are refused/);
  });

  it('refuses a redirect to the metadata address even when private URLs are allowed', async () => {
    const err = await failure(enhance(`${images.url}/redirect-private`));
    expect(err.kind).toBe('refused_url');
    expect(err.message).toMatch(/169\.254\.169\.254/);
  });

  it('refuses images over 40 megapixels before decoding them', async () => {
    images.put(
      '/huge.png',
      await sharp({ create: { width: 8000, height: 5001, channels: 3, background: '#000' } })
        .png()
        .toBuffer(),
    );
    const err = await failure(enhance(`${images.url}/huge.png`));
    expect(err).toMatchObject({ kind: 'too_large', message: 'the image is 8000×5001, over the 40-megapixel limit' });
  });

  it('refuses bytes that are not a decodable image', async () => {
    images.put('/broken.png', Buffer.from('not really a png'));
    expect(await failure(enhance(`${images.url}/broken.png`))).toMatchObject({ kind: 'malformed' });
  });

  it('health check processes an image', async () => {
    expect(await provider().healthCheck()).toMatchObject({ ok: true, detail: null });
  });
});

describe('applyCssFilterLook', () => {
  it('matches CSS brightness(1.2) contrast(1.1) saturate(1.1) on a grey pixel', async () => {
    const grey = await sharp({ create: { width: 1, height: 1, channels: 3, background: { r: 100, g: 100, b: 100 } } })
      .png()
      .toBuffer();
    const { data } = await sharp(await applyCssFilterLook(grey))
      .raw()
      .toBuffer({ resolveWithObject: true });
    // 100·1.2 = 120, then 1.1·(120 − 127.5) + 127.5 = 119.25; saturate leaves greys alone.
    expect([...data]).toEqual([119, 119, 119]);
  });

  it('brightens and saturates a colour image', async () => {
    const input = await makeTestPng();
    const output = await applyCssFilterLook(input);
    expect(await meanBrightness(output)).toBeGreaterThan((await meanBrightness(input)) + 10);
    const spread = async (b: Buffer) => {
      const { channels } = await sharp(b).stats();
      return channels[0]!.mean - channels[2]!.mean;
    };
    expect(Math.abs(await spread(output))).toBeGreaterThan(Math.abs(await spread(input)));
  });
});
