import { expect, test } from '@playwright/test';
import { query, signIn } from './helpers';

const count = (n: number) => new Intl.NumberFormat('en-US').format(n);

/**
 * [BOOT] A signed-in load of the dashboard renders from the answers the page carries: no auth.me
 * or admin.dashboard request before the figures show, no CSP complaint, and the page's data gone
 * from the DOM once read. Signed out, the page still asks auth.me and shows the login.
 */
test('a signed-in reload of / shows the figures without asking auth.me or admin.dashboard', async ({ page }) => {
  await page.goto('/');
  await signIn(page);
  await expect(page.getByTestId('stat-platform-credits')).toBeVisible();

  const asked: string[] = [];
  const complaints: string[] = [];
  page.on('request', (r) => {
    const url = new URL(r.url());
    if (url.pathname.startsWith('/trpc/')) asked.push(url.pathname.slice('/trpc/'.length));
  });
  page.on('console', (m) => {
    if (m.type() === 'error') complaints.push(m.text());
  });
  await page.reload();
  await expect(page.getByTestId('me-email')).toBeVisible();
  const expected = await query<{ platformCreditsRemaining: number }>(page.request, 'admin.dashboard');
  await expect(page.getByTestId('stat-platform-credits')).toHaveText(count(expected.platformCreditsRemaining));
  const beforeFigures = asked.filter((p) => p.split(',').some((name) => name === 'auth.me' || name === 'admin.dashboard'));
  expect(beforeFigures).toEqual([]);
  await expect(page.locator('#cd-boot')).toHaveCount(0);
  expect(complaints.filter((c) => /Content Security Policy|boot/i.test(c))).toEqual([]);

  // Another route carries auth.me alone: the shell shows, the route's own queries go out.
  asked.length = 0;
  await page.goto('/ledger');
  await expect(page.getByTestId('me-email')).toBeVisible();
  expect(asked.filter((p) => p === 'auth.me')).toEqual([]);

  // Signed out, the page is the built one: auth.me is asked and answers that nobody is signed in.
  await page.getByRole('button', { name: 'Logout' }).click();
  await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();
  asked.length = 0;
  await page.goto('/');
  await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();
  expect(asked).toContain('auth.me');
});
