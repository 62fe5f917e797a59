import { expect, test, type Page } from '@playwright/test';
import { mutate, query, shotFromTop, signIn, uniqueProvider } from './helpers';

type Silence = { id: string; alertType: string; subject: string | null; reason: string; endedAt: string | null };

/** The row of one silence (rows are named by their cells: type, subject, reason…). */
const silenceRow = (page: Page, subject: string) => page.getByTestId('alert-silences-table').getByRole('row').filter({ hasText: subject });

test('an admin silences a provider for its maintenance, sees the silence listed, and ends it', async ({ page }) => {
  const subject = uniqueProvider('maint');
  await page.goto('/alerts?tab=silences');
  await signIn(page);
  await expect(page.getByRole('tab', { name: 'Silences' })).toHaveAttribute('aria-selected', 'true');

  const form = page.getByRole('form', { name: 'New silence' });
  // A silence needs a reason: refused in the form, nothing created.
  await form.getByLabel('Alert type').fill('provider_unhealthy');
  await form.getByLabel('Subject').fill(subject);
  await form.getByRole('button', { name: 'Silence' }).click();
  await expect(form.getByText('a reason is required')).toBeVisible();
  expect((await query<Silence[]>(page.request, 'admin.alerts.silences.list')).filter((s) => s.subject === subject)).toEqual([]);

  await form.getByLabel('For (hours)').fill('3');
  await form.getByLabel('Reason').fill(`${subject} maintenance window`);
  await form.getByRole('button', { name: 'Silence' }).click();

  const row = silenceRow(page, subject);
  await expect(row).toContainText('provider_unhealthy');
  await expect(row).toContainText(`${subject} maintenance window`);
  const [stored] = (await query<Silence[]>(page.request, 'admin.alerts.silences.list')).filter((s) => s.subject === subject);
  expect(stored).toMatchObject({ alertType: 'provider_unhealthy', subject, reason: `${subject} maintenance window`, endedAt: null });
  await shotFromTop(page, 'alert-silences');

  await row.getByRole('button', { name: `End silence of provider_unhealthy ${subject}` }).click();
  await expect(row).toHaveCount(0);
  expect((await query<Silence[]>(page.request, 'admin.alerts.silences.list')).filter((s) => s.subject === subject)).toEqual([]);
});

test('an analyst sees the active silences without any control to create or end one', async ({ page, browser }) => {
  const stamp = `${Date.now()}${Math.floor(Math.random() * 1000)}`;
  const analyst = { email: `analyst-silences-${stamp}@example.com`, password: 'analyst-password-2025' };
  const subject = uniqueProvider('ro-maint');
  await page.goto('/alerts?tab=silences');
  await signIn(page);
  await mutate(page.request, 'admin.admins.create', { ...analyst, role: 'analyst' });
  await mutate(page.request, 'admin.alerts.silences.create', {
    alertType: 'pool_low',
    subject,
    endsAt: new Date(Date.now() + 3_600_000).toISOString(),
    reason: 'refill in progress',
  });

  const context = await browser.newContext();
  const other = await context.newPage();
  await other.goto('/alerts?tab=silences');
  await signIn(other, analyst.email, analyst.password);
  await expect(silenceRow(other, subject)).toContainText('refill in progress');
  await expect(other.getByRole('form', { name: 'New silence' })).toHaveCount(0);
  await expect(other.getByRole('button', { name: /^(Silence|End silence)/ })).toHaveCount(0);
  await expect(other.getByRole('textbox')).toHaveCount(0);
  await shotFromTop(other, 'alert-silences-analyst');
  await context.close();
});
