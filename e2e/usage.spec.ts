import { readFile } from 'node:fs/promises';
import { expect, test } from '@playwright/test';
import { ensureProvider, mutate, shotWholeMain, signIn } from './helpers';

const addDays = (day: string, n: number) => new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);

test('an analyst splits 90 days by provider, exports exactly the days shown, and runs a what-if', async ({ page, browser }) => {
  const stamp = `${Date.now().toString(36)}${Math.floor(Math.random() * 1000)}`;
  const provider = `usage-${stamp}`;
  const analyst = { email: `analyst-usage-${stamp}@example.com`, password: 'analyst-password-2025' };

  // The admin sets the scene: an analyst, a pool with credits, and a product app's requests on it.
  await page.goto('/usage');
  await signIn(page);
  await mutate(page.request, 'admin.admins.create', { ...analyst, role: 'analyst' });
  await ensureProvider(page.request, provider);
  await mutate(page.request, 'admin.pools.create', { provider, costPerCredit: '0.05', autoRefillThreshold: 0, autoRefillAmount: 100 });
  await mutate(page.request, 'admin.pools.refill', { provider, amount: 500, reason: 'e2e usage' });
  const key = (await mutate<{ secret: string }>(page.request, 'admin.apiKeys.create', { name: `e2e usage ${stamp}`, scopes: ['users:write', 'credits:write'] })).secret;
  const userId = `e2e-usage-${stamp}`;
  await mutate(page.request, 'users.upsert', { userId, tier: 'pro' }, key);
  const captures = 3;
  for (let i = 0; i < captures; i++) {
    const hold = await mutate<{ reservationId: string }>(page.request, 'credits.reserve', { userId, credits: 1, enhancementType: 'style', idempotencyKey: `e2e-usage-${stamp}-${i}` }, key);
    await mutate(page.request, 'credits.capture', { reservationId: hold.reservationId, provider }, key);
  }

  const context = await browser.newContext({ acceptDownloads: true });
  const other = await context.newPage();
  await other.goto('/usage');
  await signIn(other, analyst.email, analyst.password);
  await expect(other.getByRole('heading', { name: 'Usage', level: 1 })).toBeVisible();
  // Analysts read: the page has no control that changes anything.
  await expect(other.getByRole('button', { name: /Refill|Save|Delete|Approve|Create/ })).toHaveCount(0);

  // 90 days by provider: a stacked series for our provider in the requests chart.
  await other.getByRole('button', { name: '90 d' }).click();
  await other.getByLabel('Split').selectOption({ label: 'By provider' });
  await expect(other).toHaveURL(/range=90d/);
  await expect(other).toHaveURL(/split=provider/);
  await expect(other.getByTestId('usage-charts')).toHaveAttribute('data-split', 'provider');
  await expect(other.getByTestId('usage-days')).toHaveText('90');
  const requests = other.getByTestId('chart-requests');
  await expect(requests.locator('.recharts-legend-item').filter({ hasText: provider })).toHaveCount(1);
  await expect(requests.locator('path.recharts-rectangle').first()).toBeVisible();
  await expect(other.getByTestId('chart-cost').locator('.recharts-legend-item').filter({ hasText: provider })).toHaveCount(1);
  const showing = (await other.getByTestId('usage-showing').textContent())!;
  const [, first, last] = /(\d{4}-\d{2}-\d{2}) – (\d{4}-\d{2}-\d{2})/.exec(showing)!;
  expect(addDays(first!, 89)).toBe(last);

  // Export: one row per day shown, the day's figures, then requests/credits/cost per provider.
  const [download] = await Promise.all([other.waitForEvent('download'), other.getByRole('button', { name: /Export CSV/ }).click()]);
  expect(download.suggestedFilename()).toBe(`usage-${first}-${last}-provider.csv`);
  const text = await readFile(await download.path(), 'utf8');
  const lines = text.split('\r\n').filter((l) => l !== '');
  expect(lines).toHaveLength(1 + 90);
  const header = lines[0]!.split(',');
  expect(header.slice(0, 9)).toEqual(['day', 'requests', 'successful_requests', 'failed_requests', 'success_rate', 'credits', 'allowance_credits', 'platform_credits', 'cost_usd']);
  const col = header.indexOf(`provider:${provider}:requests`);
  expect(col).toBeGreaterThan(8);
  expect(header[col + 1]).toBe(`provider:${provider}:credits`);
  expect(header[col + 2]).toBe(`provider:${provider}:cost_usd`);
  const rows = lines.slice(1).map((l) => l.split(','));
  expect(rows.map((r) => r[0])).toEqual(Array.from({ length: 90 }, (_, i) => addDays(first!, i)));
  const todayRow = rows.at(-1)!;
  expect(todayRow[col]).toBe(String(captures));
  expect(todayRow[col + 2]).toBe('0.150000');
  for (const r of rows) expect(r).toHaveLength(header.length);

  // A custom range is checked with the shared schema, its message shown; the last valid range stays.
  await other.getByRole('button', { name: 'Custom' }).click();
  await expect(other.getByLabel('From', { exact: true })).toHaveValue(first!);
  await expect(other.getByLabel('To', { exact: true })).toHaveValue(last!);
  await other.getByLabel('From', { exact: true }).fill(addDays(last!, -6));
  await expect(other.getByTestId('usage-days')).toHaveText('7');
  await other.getByLabel('To', { exact: true }).fill(addDays(last!, -10));
  await expect(other.getByRole('alert').filter({ hasText: 'From must not be after to' })).toBeVisible();
  await expect(other.getByTestId('usage-days')).toHaveText('7');
  await other.getByLabel('To', { exact: true }).fill(last!);
  await expect(other.getByRole('alert').filter({ hasText: 'must not be after' })).toHaveCount(0);
  await expect(other).toHaveURL(new RegExp(`from=${addDays(last!, -6)}`));

  // What-if: pro without allowance or pool access would have refused our captures.
  const whatIf = other.getByTestId('what-if');
  await expect(whatIf.getByTestId('what-if-requests')).not.toHaveText('');
  await whatIf.getByLabel('Pro monthly credits').fill('0');
  await whatIf.getByRole('row').filter({ hasText: 'pro' }).getByRole('checkbox').uncheck();
  await whatIf.getByRole('button', { name: 'Run scenario' }).click();
  const refused = whatIf.getByRole('row', { name: /Refused/ });
  await expect(refused.locator('td').nth(1)).not.toHaveText('0');
  await expect(whatIf.getByTestId('what-if-cost')).toContainText('saved');

  await other.getByRole('button', { name: '90 d' }).click();
  await expect(other.getByTestId('usage-days')).toHaveText('90');
  await expect(other.getByTestId('last-reallocation')).toBeVisible();
  await shotWholeMain(other, 'usage');
  await context.close();
});
