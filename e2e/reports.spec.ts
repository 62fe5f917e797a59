import { expect, test } from '@playwright/test';
import { query, signIn } from './helpers';

type ReportSettings = { kind: string; enabled: boolean; slack: boolean; emailTo: string[] };

test('an admin sets the daily report recipients on the Alerts page and sends a preview now', async ({ page }) => {
  await page.goto('/alerts?tab=reports');
  await signIn(page);
  await expect(page.getByRole('tab', { name: 'Reports' })).toHaveAttribute('aria-selected', 'true');
  const card = page.getByTestId('report-daily');
  await expect(card.getByRole('heading', { name: 'Daily report' })).toBeVisible();
  await expect(card).toContainText('0 8 * * *');
  await expect(page.getByTestId('report-weekly')).toContainText('0 8 * * 1');

  // A bad address is refused in the form, before anything is saved.
  await card.getByLabel('Email recipients').fill('not-an-address');
  await card.getByRole('button', { name: 'Save' }).click();
  await expect(card.locator('.field-error')).toBeVisible();

  await card.getByLabel('Post to Slack').check();
  await card.getByLabel('Email recipients').fill('reports-e2e@example.com');
  await card.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByText('Daily report saved (off).')).toBeVisible();
  await expect
    .poll(async () => (await query<ReportSettings[]>(page.request, 'admin.reports.settings')).find((s) => s.kind === 'daily'))
    .toMatchObject({ enabled: false, slack: true, emailTo: ['reports-e2e@example.com'] });

  // Send now: the preview's text is shown with what each channel answered.
  const daily = page.getByTestId('report-daily');
  await daily.getByRole('button', { name: 'Send now' }).click();
  const preview = daily.getByTestId('report-preview-daily');
  await expect(preview).toBeVisible({ timeout: 20_000 });
  await expect(preview.locator('pre')).toContainText(/^Preview: Creditdesk daily report, \d{4}-\d{2}-\d{2}/);
  await expect(preview.locator('pre')).toContainText('Budget this month');
  await expect(preview.locator('pre')).toContainText('Top users');
  await expect(preview.getByTestId('report-delivery-slack')).toContainText(/^Slack: (sent|failed — .+)$/);
  await expect(preview.getByTestId('report-delivery-email')).toContainText(/^Email: (sent|failed — .+)$/);
});
