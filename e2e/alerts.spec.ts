import { expect, test, type Page } from '@playwright/test';
import { ADMIN_EMAIL } from './env';
import { ensureProvider, mutate, query, shotFromTop, signIn, uniqueProvider } from './helpers';

type Alert = { id: string; type: string; subject: string; status: string; occurrences: number };

/**
 * A real low-pool condition: a new manual pool is empty (balance 0, threshold 10), and the
 * check-credit-thresholds job raises pool_low for it. Returns the alert once the job has run.
 */
async function raisePoolLow(page: Page, provider: string): Promise<Alert> {
  await ensureProvider(page.request, provider);
  await mutate(page.request, 'admin.pools.create', { provider, costPerCredit: '0.02', autoRefillThreshold: 10, autoRefillAmount: 100, billingMode: 'manual' });
  await mutate(page.request, 'admin.jobs.runNow', { name: 'check-credit-thresholds' });
  let alert: Alert | undefined;
  await expect
    .poll(
      async () => {
        const active = await query<Alert[]>(page.request, 'admin.alerts.active', {});
        alert = active.find((a) => a.type === 'pool_low' && a.subject === provider);
        return alert?.status;
      },
      { timeout: 30_000, intervals: [250, 500, 1000] },
    )
    .toBe('open');
  return alert!;
}

/** The row of one alert in a table (rows are labelled "Alert <id>: <level> <type> <subject>, <status>"). */
const alertRow = (page: Page, testId: string, id: string) => page.getByTestId(testId).getByRole('row', { name: new RegExp(`^Alert ${id}:`) });

test('a low pool raises an alert that an admin acknowledges and resolves', async ({ page }) => {
  const provider = uniqueProvider('alert');
  await page.goto('/alerts');
  await signIn(page);
  await expect(page.getByRole('heading', { name: 'Alerts', level: 1 })).toBeVisible();
  await expect(page.getByRole('tab', { name: /Active/ })).toHaveAttribute('aria-selected', 'true');

  await ensureProvider(page.request, provider);

  await mutate(page.request, 'admin.pools.create', { provider, costPerCredit: '0.02', autoRefillThreshold: 10, autoRefillAmount: 100, billingMode: 'manual' });
  await mutate(page.request, 'admin.jobs.runNow', { name: 'check-credit-thresholds' });

  // The job runs on the queue: reload until the page shows its alert.
  const byProvider = page.getByTestId('active-alerts-table').getByRole('row', { name: new RegExp(`pool_low ${provider},`) });
  await expect(async () => {
    await page.reload();
    await expect(byProvider).toBeVisible({ timeout: 1_500 });
  }).toPass({ timeout: 30_000, intervals: [500, 1000, 2000] });
  const label = await byProvider.getAttribute('aria-label');
  const id = /^Alert (\d+):/.exec(label ?? '')![1]!;
  const row = alertRow(page, 'active-alerts-table', id);
  await expect(row).toContainText('warning');
  await expect(row).toContainText(`The ${provider} pool is low: 0 credits left (threshold 10).`);
  await expect(row).toContainText('×1');
  await expect(row.getByTestId('alert-status')).toHaveText('open');
  await expect(page.getByTestId('open-count')).not.toHaveText('0');
  await expect(page).toHaveTitle(/^\(\d+\) Alerts · Creditdesk$/);

  // The dispatcher routes it (in-app for a warning; Slack is not enabled on a fresh database).
  await mutate(page.request, 'admin.jobs.runNow', { name: 'deliver-alerts' });
  await row.click();
  const drawer = page.getByTestId('alert-drawer');
  await expect(drawer.getByRole('heading', { level: 2 })).toContainText('pool_low');
  await expect(drawer.getByRole('heading', { level: 2 })).toContainText(provider);
  await expect(drawer.getByTestId('alert-metadata')).toContainText(`provider${provider}`);
  await expect(drawer.getByTestId('alert-metadata')).toContainText('availableBalance0');
  await expect(drawer.getByTestId('alert-metadata')).toContainText('threshold10');
  const inApp = drawer.getByTestId('alert-deliveries').getByRole('row').filter({ hasText: 'In-app' });
  await expect(inApp).toContainText('sent', { timeout: 25_000 });
  await expect(inApp).toContainText('1');
  await shotFromTop(page, 'alerts-drawer');
  await page.keyboard.press('Escape');
  await expect(drawer).toBeHidden();

  // Acknowledge from the row, with a note.
  await row.getByRole('button', { name: /^Acknowledge/ }).click();
  const ack = page.getByRole('dialog', { name: 'Acknowledge alert' });
  await expect(ack).toContainText(provider);
  await expect(ack.getByLabel('Note (optional)')).toBeFocused();
  await ack.getByLabel('Note (optional)').fill('refill ordered from the e2e');
  await ack.getByRole('button', { name: 'Acknowledge' }).click();
  await expect(ack).toBeHidden();
  await expect(page.getByTestId('toast').filter({ hasText: `Alert #${id}` })).toContainText('acknowledged');
  await expect(row.getByTestId('alert-status')).toHaveText('acknowledged');
  await expect(row.getByRole('button', { name: /^Acknowledge/ })).toHaveCount(0);
  await expect(row.getByRole('button', { name: /^Resolve/ })).toBeVisible();

  // The condition persists: the next check counts on the same (acknowledged) alert.
  await mutate(page.request, 'admin.jobs.runNow', { name: 'check-credit-thresholds' });
  await expect(async () => {
    await page.reload();
    await expect(row).toContainText('×2', { timeout: 1_500 });
  }).toPass({ timeout: 30_000, intervals: [500, 1000, 2000] });
  await expect(row.getByTestId('alert-status')).toHaveText('acknowledged');
  await shotFromTop(page, 'alerts-active');

  // Resolve from the drawer: it leaves the active list.
  await row.click();
  await expect(drawer.getByText('by admin@example.com')).toBeVisible();
  await drawer.getByRole('button', { name: 'Resolve' }).click();
  const resolve = page.getByRole('dialog', { name: 'Resolve alert' });
  await resolve.getByLabel('Note (optional)').fill('pool refilled by hand');
  await resolve.getByRole('button', { name: 'Resolve' }).click();
  await expect(resolve).toBeHidden();
  await expect(row).toHaveCount(0);
  await expect(drawer.getByTestId('alert-status').first()).toHaveText('resolved');
  await expect(drawer.getByRole('button', { name: 'Resolve' })).toHaveCount(0);
  await page.keyboard.press('Escape');

  // History keeps it: filter to resolved pool_low alerts.
  await page.getByRole('tab', { name: 'History' }).click();
  await expect(page).toHaveURL(/[?&]tab=history/);
  await page.getByLabel('History type').fill('pool_low');
  await page.getByLabel('History status').selectOption('resolved');
  const past = alertRow(page, 'alert-history-table', id);
  await expect(past).toContainText(provider);
  await expect(past.getByTestId('alert-status')).toHaveText('resolved');
  await expect(past).toContainText(ADMIN_EMAIL);
  await expect(past).toContainText('×2');
  await expect(page.getByTestId('history-total')).toContainText('match');
  // A level that does not match empties the page.
  await page.getByLabel('History level').selectOption('critical');
  await expect(past).toHaveCount(0);
  await page.getByLabel('History level').selectOption('all');
  await expect(past).toBeVisible();
  await shotFromTop(page, 'alerts-history');
});

test('channel settings keep secrets write-only and send tests that show ok or the error', async ({ page }) => {
  const secretUrl = `http://127.0.0.1:47999/services/T000/B000/e2e-secret-${Date.now()}`;
  await page.goto('/alerts?tab=channels');
  await signIn(page);
  const slack = page.getByTestId('channel-slack');
  await expect(slack.getByTestId('secret-status-slack')).toHaveText('not set');
  await expect(slack.getByTestId('channel-state-slack')).toHaveText('Disabled');

  // Without a webhook URL the test fails with the channel's reason.
  await slack.getByRole('button', { name: 'Send test' }).click();
  await expect(slack.getByTestId('channel-test-slack')).toContainText('no webhook URL is set');

  // Enabling without a URL is refused in the form.
  await slack.getByRole('switch', { name: 'Enabled' }).check();
  await slack.getByRole('button', { name: 'Save' }).click();
  await expect(slack.getByText('Set the webhook URL before enabling Slack')).toBeVisible();

  await slack.getByLabel('Webhook URL').fill(secretUrl);
  await slack.getByLabel('Cool-down (seconds)').fill('600');
  await slack.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByTestId('toast').filter({ hasText: 'Slack channel saved (enabled)' })).toBeVisible();
  await expect(slack.getByTestId('secret-status-slack')).toHaveText('set');
  await expect(slack.getByTestId('channel-state-slack')).toHaveText('Enabled');
  await expect(slack.getByLabel('Replace webhook URL')).toHaveValue('');
  await expect(slack.getByLabel('Cool-down (seconds)')).toHaveValue('600');
  // The URL is the secret: it never comes back to the browser.
  expect(await page.content()).not.toContain(secretUrl);
  const listed = await query<unknown[]>(page.request, 'admin.alerts.channels.list');
  expect(JSON.stringify(listed)).not.toContain('e2e-secret');

  // Nothing listens on that port: the test shows the error, not a success.
  await slack.getByRole('button', { name: 'Send test' }).click();
  await expect(slack.getByTestId('channel-test-slack')).toContainText('unreachable');

  // Email: the shared schema's messages under each field.
  const email = page.getByTestId('channel-email');
  await email.getByRole('switch', { name: 'Enabled' }).check();
  await email.getByLabel('From', { exact: true }).fill('not-an-address');
  await email.getByRole('button', { name: 'Save' }).click();
  await expect(email.getByText('Required').first()).toBeVisible();
  await expect(email.getByText('Must be a valid email address')).toBeVisible();
  await expect(email.getByText('At least one recipient is required')).toBeVisible();
  await email.getByRole('button', { name: 'Discard' }).click();
  await expect(email.getByRole('switch', { name: 'Enabled' })).not.toBeChecked();

  // In-app's test is an info alert on this page.
  const inApp = page.getByTestId('channel-in_app');
  await inApp.getByRole('button', { name: 'Send test' }).click();
  await expect(inApp.getByTestId('channel-test-in_app')).toContainText('Test sent');
  await shotFromTop(page, 'alerts-channels');

  // Switch Slack off again and drop its URL, so later tests on this server deliver in-app only.
  await slack.getByRole('switch', { name: 'Enabled' }).uncheck();
  await slack.getByRole('checkbox', { name: 'Remove' }).check();
  await slack.getByRole('button', { name: 'Save' }).click();
  await expect(slack.getByTestId('secret-status-slack')).toHaveText('not set');
  await expect(slack.getByTestId('channel-state-slack')).toHaveText('Disabled');

  await page.getByRole('tab', { name: /Active/ }).click();
  await expect(page.getByTestId('active-alerts-table').getByRole('row', { name: /info channel_test in_app/ })).toBeVisible();
});

test('an admin adds, edits and deletes an alert rule', async ({ page }) => {
  await page.goto('/alerts?tab=rules');
  await signIn(page);
  const table = page.getByTestId('alert-rules-table');
  // The seeded rules.
  await expect(table.getByRole('row').filter({ hasText: 'pool_usage_high' })).toContainText('90');
  await expect(table.getByRole('row').filter({ hasText: 'pool_low' })).toContainText("default (each pool's refill threshold)");

  await page.getByRole('button', { name: 'Add rule' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add alert rule' });
  await dialog.getByLabel('Alert type').fill('Not A Type');
  await dialog.getByRole('button', { name: 'Add rule' }).click();
  await expect(dialog.getByText(/must be lower-case letters/)).toBeVisible();
  await dialog.getByLabel('Alert type').fill('refill_over_budget');
  await dialog.getByRole('checkbox', { name: 'Email' }).check();
  await dialog.getByRole('checkbox', { name: 'SMS' }).check();
  await dialog.getByRole('checkbox', { name: 'Active' }).uncheck();
  await dialog.getByRole('button', { name: 'Add rule' }).click();
  await expect(dialog).toBeHidden();
  const rule = table.getByRole('row').filter({ hasText: 'refill_over_budget' });
  await expect(rule).toContainText('Email');
  await expect(rule).toContainText('SMS');
  await expect(rule).toContainText('off');

  await rule.getByRole('button', { name: /^Edit/ }).click();
  const edit = page.getByRole('dialog', { name: 'Edit rule refill_over_budget' });
  await expect(edit.getByRole('checkbox', { name: 'Email' })).toBeChecked();
  await edit.getByRole('checkbox', { name: 'SMS' }).uncheck();
  await edit.getByRole('checkbox', { name: 'Active' }).check();
  await edit.getByRole('button', { name: 'Save rule' }).click();
  await expect(edit).toBeHidden();
  await expect(rule).not.toContainText('SMS');
  await expect(rule).toContainText('active');
  await shotFromTop(page, 'alerts-rules');

  await rule.getByRole('button', { name: /^Delete/ }).click();
  const confirm = page.getByRole('dialog', { name: 'Delete rule' });
  await confirm.getByRole('button', { name: 'Delete rule' }).click();
  await expect(confirm).toBeHidden();
  await expect(rule).toHaveCount(0);
});

test('an analyst sees alerts, channels and rules without any control that changes them', async ({ page, browser }) => {
  const stamp = `${Date.now()}${Math.floor(Math.random() * 1000)}`;
  const analyst = { email: `analyst-alerts-${stamp}@example.com`, password: 'analyst-password-2025' };
  await page.goto('/alerts');
  await signIn(page);
  await mutate(page.request, 'admin.admins.create', { ...analyst, role: 'analyst' });
  const provider = uniqueProvider('ro');
  const alert = await raisePoolLow(page, provider);
  // The admin sees the buttons the analyst will not.
  await page.reload();
  await expect(alertRow(page, 'active-alerts-table', alert.id).getByRole('button', { name: /^Acknowledge/ })).toBeVisible();

  const context = await browser.newContext();
  const other = await context.newPage();
  await other.goto('/alerts');
  await signIn(other, analyst.email, analyst.password);
  const row = alertRow(other, 'active-alerts-table', alert.id);
  await expect(row).toContainText(provider);
  await expect(row.getByTestId('alert-status')).toHaveText('open');
  await expect(other.getByTestId('active-alerts-table').getByRole('button')).toHaveCount(0);
  await row.click();
  const drawer = other.getByTestId('alert-drawer');
  await expect(drawer.getByTestId('alert-metadata')).toContainText(provider);
  await expect(drawer.getByRole('button', { name: /Acknowledge|Resolve/ })).toHaveCount(0);
  await shotFromTop(other, 'alerts-analyst');
  await other.keyboard.press('Escape');

  await other.getByRole('tab', { name: 'Channels' }).click();
  await expect(other.getByTestId('channel-slack')).toContainText('Webhook URL');
  await expect(other.getByTestId('secret-status-slack')).toBeVisible();
  await expect(other.getByRole('button', { name: /Send test|Save/ })).toHaveCount(0);
  await expect(other.getByRole('switch')).toHaveCount(0);
  await expect(other.locator('[data-testid^="channel-"] input')).toHaveCount(0);
  await shotFromTop(other, 'alerts-analyst-channels');

  await other.getByRole('tab', { name: 'Rules' }).click();
  await expect(other.getByTestId('alert-rules-table')).toContainText('pool_low');
  await expect(other.getByRole('button', { name: 'Add rule' })).toHaveCount(0);
  await expect(other.getByTestId('alert-rules-table').getByRole('button', { name: /Edit|Delete/ })).toHaveCount(0);
  await context.close();
});
