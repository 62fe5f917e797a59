import { expect, test } from '@playwright/test';
import { mutate, shot, signIn } from './helpers';

test('an admin sees the runner and the schedules, runs a job now and finds the run in the history', async ({ page }) => {
  await page.goto('/jobs');
  await signIn(page);
  await expect(page.getByRole('heading', { name: 'Jobs', level: 1 })).toBeVisible();

  // The e2e server runs with Redis: BullMQ.
  await expect(page.getByTestId('jobs-mode')).toContainText('BullMQ (Redis)');
  await expect(page.getByTestId('jobs-timezone')).not.toBeEmpty();

  const jobs = page.getByTestId('jobs-table');
  const reset = jobs.getByRole('row').filter({ has: page.locator('[data-job="reset-monthly-credits"]') });
  await expect(reset.getByTestId('schedule-reset-monthly-credits')).toHaveText('0 0 1 * *');
  await expect(reset).toContainText('monthly on day 1 at 00:00');
  await expect(reset).toContainText(/in \d+ (s|min|h|d)/);

  // Run now: the page follows the run until it is recorded as finished.
  const expire = jobs.getByRole('row').filter({ has: page.locator('[data-job="expire-reservations"]') });
  await expire.getByRole('button', { name: 'Run expire-reservations now' }).click();
  await expect(page.getByTestId('toast').filter({ hasText: 'expire-reservations started' })).toBeVisible();
  await expect(page.getByTestId('toast').filter({ hasText: 'expire-reservations succeeded' })).toBeVisible({ timeout: 20_000 });
  await expect(page.getByTestId('toast').filter({ hasText: 'expire-reservations succeeded' })).toContainText(/released · .* expired/);
  await expect(expire.getByRole('button', { name: 'Run expire-reservations now' })).toBeEnabled();
  await expect(expire.getByTestId('last-run-expire-reservations')).toContainText('succeeded');

  // The history, filtered to the job and to manual runs' status, shows it.
  const history = page.getByTestId('job-runs-table');
  await page.getByLabel('Job filter').selectOption('expire-reservations');
  await page.getByLabel('Status filter').selectOption('succeeded');
  const manual = history.getByRole('row').filter({ hasText: 'manual' }).first();
  await expect(manual).toContainText('expire-reservations');
  await expect(manual).toContainText('succeeded');
  // The result reads as a sentence, not as the job's JSON.
  await expect(manual).toContainText(/\d+ holds? released · \d+ bonus grants? expired/);
  await expect(manual).not.toContainText('holdsReleased');
  await expect(history.getByRole('row').filter({ hasText: 'failed' })).toHaveCount(0);
  await expect(page.getByTestId('pager-count')).toContainText('runs');
  await shot(page, 'jobs');
  await history.scrollIntoViewIfNeeded();
  await shot(page, 'jobs-history');
});

test('an analyst reads jobs and runs without any control that starts one', async ({ page, browser }) => {
  const stamp = `${Date.now()}${Math.floor(Math.random() * 1000)}`;
  const analyst = { email: `analyst-jobs-${stamp}@example.com`, password: 'analyst-password-2025' };
  await page.goto('/jobs');
  await signIn(page);
  await mutate(page.request, 'admin.admins.create', { ...analyst, role: 'analyst' });
  await expect(page.getByRole('button', { name: /Run .* now/ }).first()).toBeVisible();

  const context = await browser.newContext();
  const other = await context.newPage();
  await other.goto('/jobs');
  await signIn(other, analyst.email, analyst.password);
  await expect(other.getByTestId('jobs-mode')).toContainText('BullMQ (Redis)');
  await expect(other.getByTestId('jobs-table')).toContainText('reset-monthly-credits');
  await expect(other.getByTestId('job-runs-table')).toBeVisible();
  await expect(other.getByRole('button', { name: /Run .* now|Retry/ })).toHaveCount(0);
  await context.close();
});
