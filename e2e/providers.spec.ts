import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, test, type Locator, type Page } from '@playwright/test';
import sharp from 'sharp';
import { mutate, shot, signIn } from './helpers';

/** The names in the providers table, top to bottom (the fallback order). */
async function tableOrder(table: Locator): Promise<string[]> {
  return table.locator('tbody [data-provider]').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.provider ?? ''));
}

/** The input image the server fetches: a small PNG served from this test on 127.0.0.1. */
let imageServer: Server;
let imageUrl: string;

test.beforeAll(async () => {
  const png = await sharp({ create: { width: 96, height: 64, channels: 3, background: { r: 180, g: 120, b: 70 } } })
    .composite([{ input: Buffer.from('<svg width="96" height="64"><circle cx="48" cy="32" r="20" fill="#3060c0"/></svg>'), top: 0, left: 0 }])
    .png()
    .toBuffer();
  imageServer = createServer((req, res) => {
    if (req.url !== '/photo.png') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'image/png', 'content-length': png.length, 'access-control-allow-origin': '*' });
    res.end(png);
  });
  await new Promise<void>((resolve) => imageServer.listen(0, '127.0.0.1', resolve));
  imageUrl = `http://127.0.0.1:${(imageServer.address() as AddressInfo).port}/photo.png`;
});

test.afterAll(async () => {
  await new Promise<void>((resolve) => imageServer.close(() => resolve()));
});

async function addProvider(page: Page, fields: { name: string; kind: string; baseUrl?: string; cost?: string; priority?: string; apiKey?: string }) {
  await page.getByRole('button', { name: 'Add provider' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add provider' });
  await expect(dialog.getByLabel('Name')).toBeFocused();
  await dialog.getByLabel('Name').fill(fields.name);
  await dialog.getByLabel('Kind').selectOption(fields.kind);
  if (fields.baseUrl !== undefined) await dialog.getByLabel('Base URL').fill(fields.baseUrl);
  if (fields.cost !== undefined) await dialog.getByLabel('Cost per request (USD)').fill(fields.cost);
  if (fields.priority !== undefined) await dialog.getByLabel('Priority').fill(fields.priority);
  await expect(dialog.getByTestId('provider-key-status')).toHaveText('Not set');
  await expect(dialog.getByLabel('API key')).toHaveAttribute('placeholder', 'not set');
  if (fields.apiKey) await dialog.getByLabel('API key').fill(fields.apiKey);
  await dialog.getByRole('button', { name: 'Add provider' }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId('toast').filter({ hasText: `Provider ${fields.name} created` })).toBeVisible();
}

test('a fresh install lists the seed providers and enhances the built-in sample with the admin session alone', async ({ page }) => {
  await page.goto('/providers');
  await signIn(page);
  const table = page.getByTestId('providers-table');
  const seeds = [
    ['nanobanana', '$0.025'],
    ['fal', '$0.039'],
    ['kie', '$0.023'],
    ['google', '$0.039'],
  ] as const;
  for (const [name, cost] of seeds) {
    const row = table.getByRole('row', { name: `Provider ${name}`, exact: true });
    await expect(row).toContainText(cost);
    await expect(row.getByRole('switch', { name: `Active: ${name}` })).not.toBeChecked();
  }
  expect((await tableOrder(table)).filter((n) => seeds.some(([s]) => s === n))).toEqual(['nanobanana', 'fal', 'kie', 'google']);
  await expect(table.getByRole('row', { name: 'Provider local', exact: true }).getByRole('switch', { name: 'Active: local' })).toBeChecked();

  // No key, no user, no settings: the sample is enhanced by local.
  const panel = page.getByTestId('try-enhancement');
  await expect(panel.getByLabel('Image', { exact: true })).toHaveValue('sample');
  await expect(panel.getByLabel('API key')).toHaveCount(0);
  await panel.getByRole('button', { name: 'Enhance' }).click();
  const result = panel.getByTestId('enhance-result');
  await expect(result).toHaveAttribute('data-status', 'enhanced', { timeout: 15_000 });
  await expect(result).toContainText('by local · $0.00');
  await expect(result.getByTestId('enhance-original')).toHaveAttribute('src', /\/media\/sample-moodboard\.png$/);
  await expect.poll(() => result.getByTestId('enhance-output').evaluate((img: HTMLImageElement) => (img.complete ? img.naturalWidth : 0))).toBe(480);
  await shot(page, 'providers-first-start');
});

test('an admin adds providers, reorders and disables one, tests them, and runs an enhancement that falls back to local', async ({ page }) => {
  const paid = `fal-e2e-${(Date.now() % 1e8).toString(36)}`;
  await page.goto('/providers');
  await signIn(page);
  await expect(page.getByRole('heading', { name: 'Providers', level: 1 })).toBeVisible();
  const table = page.getByTestId('providers-table');

  // The free local provider (the kind fills in its base URL and a zero cost), then a paid one
  // whose API answers nowhere.
  await page.getByRole('button', { name: 'Add provider' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add provider' });
  await dialog.getByLabel('Base URL').fill('');
  await dialog.getByRole('button', { name: 'Add provider' }).click();
  await expect(dialog.getByText('Provider must be at least 2 characters')).toBeVisible();
  await expect(dialog.getByText('Must be an http(s) URL')).toBeVisible();
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  // local is there from the first start (priority 100). Other specs' providers come later in the
  // order (900 and up), so 101 puts the paid one right after local.
  await addProvider(page, { name: paid, kind: 'fal', baseUrl: 'http://127.0.0.1:9', cost: '0.039', priority: '101', apiKey: 'fal-e2e-secret-key' });

  const localRow = table.getByRole('row', { name: 'Provider local' });
  const paidRow = table.getByRole('row', { name: `Provider ${paid}` });
  await expect(localRow).toContainText('free (local)');
  await expect(localRow).toContainText('closed');
  await expect(paidRow).toContainText('no pool');
  await expect(paidRow).toContainText('$0.039');
  expect((await tableOrder(table)).filter((n) => n === 'local' || n === paid)).toEqual(['local', paid]);

  // Keyboard: the paid row focused, Alt+↑ moves it above local (and focus stays on it).
  await paidRow.focus();
  await page.keyboard.press('Alt+ArrowUp');
  await expect.poll(async () => (await tableOrder(table)).filter((n) => n === 'local' || n === paid)).toEqual([paid, 'local']);
  await expect(paidRow).toBeFocused();
  // The buttons do the same: down, then up again.
  await paidRow.getByRole('button', { name: `Move ${paid} down` }).click();
  await expect.poll(async () => (await tableOrder(table)).filter((n) => n === 'local' || n === paid)).toEqual(['local', paid]);
  await paidRow.getByRole('button', { name: `Move ${paid} up` }).click();
  await expect.poll(async () => (await tableOrder(table)).filter((n) => n === 'local' || n === paid)).toEqual([paid, 'local']);

  // Disable the paid provider, with a reason.
  await paidRow.getByRole('switch', { name: `Active: ${paid}` }).click();
  const disable = page.getByRole('dialog', { name: `Disable ${paid}` });
  await disable.getByLabel('Reason (optional)').fill('e2e: nothing listens there');
  await disable.getByRole('button', { name: 'Disable provider' }).click();
  await expect(disable).toBeHidden();
  await expect(page.getByTestId('toast').filter({ hasText: `Provider ${paid} disabled` })).toBeVisible();
  await expect(paidRow.getByRole('switch')).not.toBeChecked();

  // Wide rows, as the whole suite leaves them (long names, big rates and costs): the table must
  // scroll sideways rather than squeeze the Last error column to nothing.
  for (const i of [1, 2]) {
    const wide = `wide-row-provider-${i}-${(Date.now() % 1e8).toString(36)}`.slice(0, 40);
    await mutate(page.request, 'admin.providers.create', {
      name: wide,
      kind: 'kie',
      baseUrl: 'http://127.0.0.1:9',
      costPerRequest: '123456.123456',
      rateLimitPerMinute: 100000,
      priority: 9000 + i,
      isActive: false,
    });
  }

  // After a reload the order and the disabled state are the server's.
  await page.reload();
  await expect(paidRow).toBeVisible();
  expect((await tableOrder(table)).filter((n) => n === 'local' || n === paid)).toEqual([paid, 'local']);
  await expect(paidRow.getByRole('switch')).not.toBeChecked();
  await expect(paidRow).toHaveClass(/row-muted/);
  await expect(localRow.getByRole('switch')).toBeChecked();
  const priority = async (name: string) => Number(await table.getByTestId(`priority-${name}`).textContent());
  expect(await priority(paid)).toBeLessThan(await priority('local'));

  // The API key is write-only: the edit dialog says it is set and never shows it.
  await paidRow.getByRole('button', { name: `Edit ${paid}` }).click();
  const editDialog = page.getByRole('dialog', { name: `Edit provider ${paid}` });
  await expect(editDialog.getByTestId('provider-key-status')).toHaveText('Set');
  await expect(editDialog.getByLabel('Replace key')).toHaveValue('');
  await expect(editDialog.getByLabel('Replace key')).toHaveAttribute('placeholder', 'set — leave empty to keep');
  await expect(editDialog.getByLabel('Base URL')).toHaveValue('http://127.0.0.1:9');
  await expect(editDialog.getByRole('checkbox', { name: 'Remove key' })).not.toBeChecked();
  expect(await editDialog.innerHTML()).not.toContain('fal-e2e-secret-key');
  await editDialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(editDialog).toBeHidden();

  // Test now: nothing listens on port 9, the local provider is fine.
  await paidRow.getByRole('button', { name: `Test ${paid} now` }).click();
  await expect(page.getByTestId('toast').filter({ hasText: `${paid} failed its health check` })).toBeVisible();
  await expect(page.getByTestId(`health-${paid}`)).toHaveAttribute('data-state', 'failing');
  await localRow.getByRole('button', { name: 'Test local now' }).click();
  await expect(page.getByTestId('toast').filter({ hasText: 'local is healthy' })).toBeVisible();
  await expect(page.getByTestId('health-local')).toHaveAttribute('data-state', 'ok');
  await shot(page, 'providers');

  // Give the paid provider a pool and enable it again: first in priority, but its failed health check keeps it out.
  await mutate(page.request, 'admin.pools.create', { provider: paid, costPerCredit: '0.039', autoRefillThreshold: 0, autoRefillAmount: 100 });
  const refill = await mutate<{ status: string }>(page.request, 'admin.pools.refill', { provider: paid, amount: 50, reason: 'e2e pool for the fallback' });
  expect(refill.status).toBe('completed');
  await paidRow.getByRole('switch', { name: `Active: ${paid}` }).click();
  const enable = page.getByRole('dialog', { name: `Enable ${paid}` });
  await enable.getByRole('button', { name: 'Enable provider' }).click();
  await expect(enable).toBeHidden();
  await expect(paidRow.getByRole('switch')).toBeChecked();
  await expect(paidRow).toContainText('50');

  // Try an enhancement with the admin's session, on an image address this time.
  const panel = page.getByTestId('try-enhancement');
  await panel.getByLabel('Image', { exact: true }).selectOption('url');
  await panel.getByLabel('Image URL').fill('not a url');
  await panel.getByRole('button', { name: 'Enhance' }).click();
  await expect(panel.getByText('Enter a full address such as https://example.com/photo.jpg')).toBeVisible();
  await panel.getByLabel('Image URL').fill(imageUrl);
  await panel.getByLabel('Enhancement').selectOption('upscale');
  await panel.getByRole('button', { name: 'Enhance' }).click();

  const result = panel.getByTestId('enhance-result');
  await expect(result).toHaveAttribute('data-status', 'enhanced', { timeout: 15_000 });
  await expect(result).toContainText('by local · $0.00');
  const output = result.getByTestId('enhance-output');
  await expect(output).toHaveAttribute('src', /\/media\/.+\.png$/);
  await expect.poll(() => output.evaluate((img: HTMLImageElement) => (img.complete ? img.naturalWidth : 0))).toBeGreaterThan(0);
  // Upscale doubles the 96 px input.
  expect(await output.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(192);
  await expect.poll(() => result.getByTestId('enhance-original').evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(96);
  // The paid provider failed its health check just now: routing skips it (its circuit is open until a
  // check or a trial request passes), so it is not called, its pool keeps its credits, and only
  // local's call counts in the 24 h figures.
  await expect(page.getByTestId('success-local')).toContainText('100%');
  await expect(page.getByTestId(`success-${paid}`)).toContainText('no calls');
  await expect(paidRow).toContainText('50');
  // Its failed health check shows in the Last error column, which keeps a usable width (14rem less
  // its padding) however wide the other columns are.
  const healthError = page.getByTestId(`health-error-${paid}`);
  await expect(healthError).toContainText('health check');
  expect((await healthError.locator('xpath=ancestor::td[1]').boundingBox())?.width ?? 0).toBeGreaterThan(200);
  await shot(page, 'providers-enhance');

  await expect(result.getByTestId('enhance-attempts')).toContainText(`${paid} skipped`);

  // With every provider disabled the trial says so, and nothing is drawn.
  for (const name of [paid, 'local']) await mutate(page.request, 'admin.providers.setActive', { name, isActive: false, reason: 'e2e: none active' });
  await panel.getByLabel('Enhancement').selectOption('lighting');
  await panel.getByRole('button', { name: 'Enhance' }).click();
  await expect(result).toHaveAttribute('data-status', 'failed', { timeout: 15_000 });
  await expect(result).toContainText('No provider is active');
  await shot(page, 'providers-none-active');
  for (const name of [paid, 'local']) await mutate(page.request, 'admin.providers.setActive', { name, isActive: true, reason: 'e2e: restore' });
});

test('an analyst reads providers without any control that changes them', async ({ page, browser }) => {
  const stamp = `${Date.now()}${Math.floor(Math.random() * 1000)}`;
  const analyst = { email: `analyst-providers-${stamp}@example.com`, password: 'analyst-password-2025' };
  await page.goto('/providers');
  await signIn(page);
  await mutate(page.request, 'admin.admins.create', { ...analyst, role: 'analyst' });
  const name = `ro-${(Date.now() % 1e8).toString(36)}`;
  await mutate(page.request, 'admin.providers.create', { name, kind: 'kie', baseUrl: 'http://127.0.0.1:9', costPerRequest: '0.02', rateLimitPerMinute: 30, priority: 500 });

  const context = await browser.newContext();
  const other = await context.newPage();
  await other.goto('/providers');
  await signIn(other, analyst.email, analyst.password);
  const table = other.getByTestId('providers-table');
  const row = table.getByRole('row').filter({ hasText: name });
  await expect(row).toContainText('kie');
  await expect(row).toContainText('active');
  await expect(other.getByRole('button', { name: 'Add provider' })).toHaveCount(0);
  await expect(table.getByRole('switch')).toHaveCount(0);
  await expect(table.getByRole('button', { name: /Move|Test|Edit/ })).toHaveCount(0);
  await expect(other.getByTestId('try-enhancement')).toHaveCount(0);
  await shot(other, 'providers-analyst');
  await context.close();
});
