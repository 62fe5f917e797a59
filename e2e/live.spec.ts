import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { E2E_PORT, restartPidFile } from './env';
import { mutate, query, shot, signIn } from './helpers';

const count = (n: number) => new Intl.NumberFormat('en-US').format(n);
type Dashboard = { creditsConsumedToday: number };

test('a consume through the API moves the dashboard figure and appears on the Live page within 2 s, without a reload', async ({ page }) => {
  const stamp = `${Date.now().toString(36)}${Math.floor(Math.random() * 1000)}`;
  await page.goto('/');
  await signIn(page);
  await expect(page.getByTestId('live-indicator')).toHaveAttribute('data-state', 'live');
  const key = (await mutate<{ secret: string }>(page.request, 'admin.apiKeys.create', { name: `e2e live ${stamp}`, scopes: ['users:write', 'credits:write'] })).secret;
  const userId = `e2e-live-${stamp}`;
  await mutate(page.request, 'users.upsert', { userId, tier: 'pro' }, key);

  // Dashboard: the figure moves in place (no reload: a marker set on the window survives).
  await expect(page.getByTestId('stat-consumed-today')).toBeVisible();
  await page.evaluate(() => ((window as unknown as { __noReload: boolean }).__noReload = true));
  const before = await query<Dashboard>(page.request, 'admin.dashboard');
  await expect(page.getByTestId('stat-consumed-today')).toHaveText(count(before.creditsConsumedToday));
  await mutate(page.request, 'credits.consume', { userId, credits: 3, enhancementType: 'upscale', idempotencyKey: `e2e-live-${stamp}-1` }, key);
  await expect(page.getByTestId('stat-consumed-today')).toHaveText(count(before.creditsConsumedToday + 3), { timeout: 2_000 });

  // Live page (g v), filtered to this user: the next consume appears at the top within 2 s.
  await page.keyboard.press('g');
  await page.keyboard.press('v');
  await expect(page.getByRole('heading', { name: 'Live', level: 1 })).toBeVisible();
  await page.getByLabel('User id').fill(userId);
  const rows = page.getByTestId('live-row');
  // The stream for this filter is open (not the unfiltered one typed over).
  await expect(page.getByTestId('live-table')).toHaveAttribute('data-open-for', new RegExp(userId));
  // The opening rows: the user's allocation and the first consume.
  await expect(rows.filter({ hasText: 'consumption' })).toHaveCount(1);
  const second = await mutate<{ transactionId: string | number }>(page.request, 'credits.consume', { userId, credits: 1, enhancementType: 'upscale', idempotencyKey: `e2e-live-${stamp}-2` }, key);
  await expect(rows.first()).toHaveAttribute('data-id', String(second.transactionId), { timeout: 2_000 });
  await expect(rows.first()).toContainText('consumption');

  // Paused: new rows are held back and counted, then shown on resume.
  await page.locator('#main').focus();
  await page.keyboard.press('k');
  await expect(page.getByTestId('live-pause')).toHaveText('Resume');
  const third = await mutate<{ transactionId: string | number }>(page.request, 'credits.consume', { userId, credits: 1, enhancementType: 'upscale', idempotencyKey: `e2e-live-${stamp}-3` }, key);
  await expect(page.getByTestId('live-held')).toHaveText('1 new');
  await expect(rows.first()).toHaveAttribute('data-id', String(second.transactionId));
  await shot(page, 'live-paused');
  await page.getByTestId('live-pause').click();
  await expect(rows.first()).toHaveAttribute('data-id', String(third.transactionId));
  await shot(page, 'live');
  expect(await page.evaluate(() => (window as unknown as { __noReload?: boolean }).__noReload)).toBe(true);
});

test('analysts see the live indicator; it shows reconnecting while the server restarts and live again after, its first re-opens refused with 503', async ({ page }) => {
  const stamp = `${Date.now().toString(36)}${Math.floor(Math.random() * 1000)}`;
  await page.goto('/');
  await signIn(page);
  const email = `e2e-live-analyst-${stamp}@example.com`;
  const password = 'e2e-Analyst-password-0417';
  await mutate(page.request, 'admin.admins.create', { email, role: 'analyst', password });
  await page.context().clearCookies();
  await page.goto('/');
  await signIn(page, email, password);
  const indicator = page.getByTestId('live-indicator');
  await expect(indicator).toHaveAttribute('data-state', 'live');
  await expect(indicator).toHaveText('Live');

  // The first re-opens are answered 503, as a server shutting down answers them: the browser gives
  // up on such a stream by itself, and the app must open it again (stop 43's CI saw it stay offline).
  let refused = 0;
  await page.route(
    /\/trpc\/admin\.live\./,
    (route) => {
      refused += 1;
      return route.fulfill({ status: 503, contentType: 'application/json', body: '{"message":"Service Unavailable"}' });
    },
    { times: 3 },
  );
  // The launcher restarts the server on the same port and database (e2e/start-server.ts).
  process.kill(Number(readFileSync(restartPidFile(E2E_PORT), 'utf8')), 'SIGUSR2');
  await expect(indicator).toHaveAttribute('data-state', 'reconnecting', { timeout: 10_000 });
  await shot(page, 'live-reconnecting');
  await expect(indicator).toHaveAttribute('data-state', 'live', { timeout: 45_000 });
  expect(refused).toBe(3);
  // Still signed in: the session outlived the restart.
  await expect(page.getByTestId('me-role')).toHaveText('analyst');
});
