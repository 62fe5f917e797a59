import { expect, test } from '@playwright/test';
import { mutate, query, shot, signIn } from './helpers';

type Settings = { usersOutOfCreditsThreshold: number };

test('an admin sets the users out of credits threshold in Settings; the Alerts rule shows it read-only; an analyst only reads it', async ({ page, browser }) => {
  await page.goto('/settings');
  await signIn(page);
  const section = page.getByTestId('users-out-threshold-section');
  const field = section.getByLabel('Alert when more than (users)');
  await expect(field).toHaveValue('10');

  // Refused by the shared schema, with a plain error under the field; nothing saved.
  await field.fill('0');
  await section.getByLabel('Reason').fill('e2e too low');
  await section.getByRole('button', { name: 'Save threshold' }).click();
  await expect(section.getByText('Use 1 or more users')).toBeVisible();
  expect((await query<Settings>(page.request, 'admin.platformSettings.get')).usersOutOfCreditsThreshold).toBe(10);

  await field.fill('25');
  await section.getByRole('button', { name: 'Save threshold' }).click();
  await expect(page.getByText('Users out of credits threshold saved: more than 25 users of a tier.')).toBeVisible();
  await expect(field).toHaveValue('25');
  expect((await query<Settings>(page.request, 'admin.platformSettings.get')).usersOutOfCreditsThreshold).toBe(25);
  await shot(page, 'settings-users-out-threshold');

  // The Alerts page rule reads the same value and points to Settings instead of editing it.
  await page.goto('/alerts?tab=rules');
  const rule = page.getByTestId('alert-rules-table').getByRole('row').filter({ hasText: 'users_out_of_credits' });
  await expect(rule.getByTestId('users-out-rule-threshold')).toContainText('25 users');
  await rule.getByRole('button', { name: /^Edit/ }).click();
  const edit = page.getByRole('dialog', { name: 'Edit rule users_out_of_credits' });
  await expect(edit.getByLabel('Threshold (users)')).toHaveValue('25');
  await expect(edit.getByLabel('Threshold (users)')).not.toBeEditable();
  await expect(edit.getByRole('link', { name: 'Settings page' })).toBeVisible();
  await edit.getByRole('button', { name: 'Cancel' }).click();

  const stamp = `${Date.now()}${Math.floor(Math.random() * 1000)}`;
  const analyst = { email: `analyst-users-out-${stamp}@example.com`, password: 'analyst-password-2025' };
  await mutate(page.request, 'admin.admins.create', { ...analyst, role: 'analyst' });
  const context = await browser.newContext();
  const other = await context.newPage();
  await other.goto('/settings');
  await signIn(other, analyst.email, analyst.password);
  const readOnly = other.getByTestId('users-out-threshold-read-only');
  await expect(readOnly).toContainText('25 users of a tier are out of credits');
  await expect(other.getByTestId('users-out-threshold-section').getByRole('spinbutton')).toHaveCount(0);
  await expect(other.getByRole('button', { name: 'Save threshold' })).toHaveCount(0);
  await context.close();

  await mutate(page.request, 'admin.platformSettings.setUsersOutThreshold', { usersOutOfCreditsThreshold: 10, reason: 'e2e restores the default' });
});
