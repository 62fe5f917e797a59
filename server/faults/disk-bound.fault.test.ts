import { randomBytes } from 'node:crypto';
import { readdir, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mediaDir } from '../deps';
import { allJobs } from '../jobs/all-jobs';
import { apiKeyCaller, createTestEnv, uniqueId, type TestEnv } from '../test/harness';
import { makeTestPng, startFakeProvider, startImageServer } from '../test/fake-providers';
import { balanceRow, key, newUser, reasonOf } from '../test/ledger-helpers';
import { configureProviders } from '../test/provider-helpers';
import { runEnhancement } from '../providers/gateway';
import { expectReconciled } from './lib/reconciled';

let roomy: TestEnv;
let tight: TestEnv;
let images: Awaited<ReturnType<typeof startImageServer>>;
let fal: Awaited<ReturnType<typeof startFakeProvider>>;

/** Noise does not compress: a PNG of it weighs about its raw size. */
const noisePng = (width: number, height: number) =>
  sharp(randomBytes(width * height * 3), { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();

beforeAll(async () => {
  [images, fal] = await Promise.all([startImageServer(), startFakeProvider('fal')]);
  fal.state.behaviour = 'error500';
  images.put('/big.png', await makeTestPng(3000, 2400));
  images.put('/noise.png', await noisePng(1200, 1000));
  const base = { ALLOW_PRIVATE_IMAGE_URLS: 'true', CIRCUIT_FAILURE_THRESHOLD: '1000' };
  roomy = await createTestEnv(base);
  tight = await createTestEnv({ ...base, MEDIA_QUOTA_MB: '1', ENHANCE_RATE_PER_USER_PER_MINUTE: '3', ENHANCE_RATE_PER_KEY_PER_MINUTE: '5' });
}, 120_000);
afterAll(async () => {
  await Promise.all([images.close(), fal.close()]);
  await roomy.close();
  await tight.close();
});

const mediaFiles = async (env: TestEnv) => readdir(mediaDir(env.deps.config)).catch(() => [] as string[]);
const storedFile = (env: TestEnv, url: string) => join(mediaDir(env.deps.config), new URL(url).pathname.replace('/media/', ''));
const lighting = (env: TestEnv, userId: string, path: string) =>
  runEnhancement(env.deps.gateway, { userId, inputImageUrl: `${images.url}${path}`, enhancementType: 'lighting', idempotencyKey: key() });

describe('[GATEWAY] what an enhancement may write to disk is bounded', () => {
  it('degraded and local outputs are at most 2048 px on their long side', async () => {
    await configureProviders(roomy.deps, [{ name: uniqueId('fal').toLowerCase(), kind: 'fal', baseUrl: fal.url }]);
    const userId = await newUser(roomy.deps.dbHandle.db, 'pro');
    const degraded = await lighting(roomy, userId, '/big.png');
    if (degraded.status !== 'degraded') throw new Error('expected a degraded answer');
    expect(await sharp(storedFile(roomy, degraded.enhancedUrl)).metadata()).toMatchObject({ width: 2048, height: 1638 });

    await configureProviders(roomy.deps, [{ name: uniqueId('local').toLowerCase(), kind: 'local', baseUrl: 'http://localhost' }]);
    for (const enhancementType of ['color', 'upscale'] as const) {
      const local = await runEnhancement(roomy.deps.gateway, { userId, inputImageUrl: `${images.url}/big.png`, enhancementType, idempotencyKey: key() });
      if (local.status !== 'enhanced') throw new Error('expected an enhanced answer');
      expect(await sharp(storedFile(roomy, local.outputUrl)).metadata()).toMatchObject({ width: 2048, height: 1638 });
    }
    await expectReconciled(roomy.deps.dbHandle.db);
  });

  it('past MEDIA_QUOTA_MB nothing more is written: the degraded look is the CSS filter alone, the local provider steps aside', async () => {
    await configureProviders(tight.deps, [{ name: uniqueId('fal').toLowerCase(), kind: 'fal', baseUrl: fal.url }]);
    const userId = await newUser(tight.deps.dbHandle.db, 'pro');
    const first = await lighting(tight, userId, '/noise.png');
    if (first.status !== 'degraded') throw new Error('expected a degraded answer');
    expect(first.enhancedUrl).toMatch(/\/media\//);
    expect((await stat(storedFile(tight, first.enhancedUrl))).size).toBeGreaterThan(2 ** 20);

    const second = await lighting(tight, userId, '/noise.png');
    expect(second).toMatchObject({ status: 'degraded', type: 'css_filter_fallback', enhancedUrl: `${images.url}/noise.png`, cssFilter: expect.any(String) });
    await configureProviders(tight.deps, [{ name: uniqueId('local').toLowerCase(), kind: 'local', baseUrl: 'http://localhost' }]);
    expect(await lighting(tight, userId, '/input.png')).toMatchObject({ status: 'degraded', degradationReason: expect.stringContaining('media store is full') });
    expect(await mediaFiles(tight)).toHaveLength(1);
    expect(await balanceRow(tight.deps.dbHandle.db, userId)).toMatchObject({ total: 25, consumed: 0 });
    await expectReconciled(tight.deps.dbHandle.db);
  });

  it('enhance.run is rate limited per user and per API key, refusing before anything is charged', async () => {
    await configureProviders(tight.deps, [{ name: uniqueId('fal').toLowerCase(), kind: 'fal', baseUrl: fal.url }]);
    const { caller } = await apiKeyCaller(tight.deps, ['enhance']);
    const [a, b] = [await newUser(tight.deps.dbHandle.db, 'pro'), await newUser(tight.deps.dbHandle.db, 'pro')];
    const run = (userId: string) => reasonOf(caller.enhance.run({ userId, inputImageUrl: images.inputUrl, enhancementType: 'color', idempotencyKey: key() }));
    expect([await run(a), await run(a), await run(a), await run(a)]).toEqual(['OK', 'OK', 'OK', 'TOO_MANY_REQUESTS']);
    // The key's five: three of a's (the refused fourth counted too), one of b's, then refused.
    expect([await run(b), await run(b)]).toEqual(['OK', 'TOO_MANY_REQUESTS']);
    const other = await apiKeyCaller(tight.deps, ['enhance']);
    expect(await reasonOf(other.caller.enhance.run({ userId: b, inputImageUrl: images.inputUrl, enhancementType: 'color', idempotencyKey: key() }))).toBe('OK');
    expect(await balanceRow(tight.deps.dbHandle.db, a)).toMatchObject({ total: 25, consumed: 0 });
    await expectReconciled(tight.deps.dbHandle.db);
  });

  it('the cleanup-media job deletes images older than MEDIA_RETENTION_DAYS and keeps newer ones', async () => {
    const dir = mediaDir(roomy.deps.config);
    const old = join(dir, `${uniqueId('old')}.png`);
    const fresh = join(dir, `${uniqueId('fresh')}.png`);
    await writeFile(old, 'x');
    await writeFile(fresh, 'y');
    const monthAgo = new Date(Date.now() - 31 * 86_400_000);
    await utimes(old, monthAgo, monthAgo);
    const job = allJobs.find((j) => j.name === 'cleanup-media')!;
    expect(job.schedule).not.toBeNull();
    expect(await job.run(roomy.deps, {})).toMatchObject({ removed: 1 });
    const left = await mediaFiles(roomy);
    expect(left).toContain(fresh.split('/').pop());
    expect(left).not.toContain(old.split('/').pop());
  });
});
