import { readFile } from 'node:fs/promises';
import { expect, test, type Page } from '@playwright/test';
import { mutate, shotFromTop, signIn } from './helpers';

const stamp = () => `${Date.now()}${Math.floor(Math.random() * 1000)}`;

/** A user made by the product app (an API key made with the admin's session), with one charge under `idempotencyKey`. */
async function userWithCharge(page: Page, tag: string) {
  const s = stamp();
  const userId = `e2e-${tag}-${s}`;
  const email = `${tag}-${s}@example.com`;
  const idempotencyKey = `e2e-idem-${tag}-${s}`;
  const { secret } = await mutate<{ secret: string }>(page.request, 'admin.apiKeys.create', { name: `e2e ${tag} ${s}`, scopes: ['users:write', 'credits:write'] });
  await mutate(page.request, 'users.upsert', { userId, email, tier: 'plus' }, secret);
  const charge = await mutate<{ transactionId: string }>(page.request, 'credits.consume', { userId, credits: 1, enhancementType: 'upscale', idempotencyKey }, secret);
  return { userId, email, idempotencyKey, transactionId: charge.transactionId };
}

/** Clicks the Export CSV link and returns the downloaded file's name and lines. */
async function download(page: Page) {
  const [file] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Export CSV' }).click()]);
  const text = await readFile(await file.path(), 'utf8');
  return { name: file.suggestedFilename(), lines: text.split('\r\n').filter((l) => l !== '') };
}

test('the audit page shows who changed what, filters by target, and exports the filtered entries as CSV', async ({ page }) => {
  await page.goto('/');
  await signIn(page);
  const user = await userWithCharge(page, 'audit');
  const reason = `goodwill, "audit" e2e ${stamp()}`;
  await mutate(page.request, 'admin.users.grant', { userId: user.userId, credits: 5, reason });

  // g t: the Audit log, like every page's shortcut.
  await page.locator('body').press('g');
  await page.locator('body').press('t');
  await expect(page.getByRole('heading', { name: 'Audit log', level: 1 })).toBeVisible();
  await page.getByLabel('Target ID').fill(user.userId);
  await expect(page.getByTestId('audit-total')).toHaveText('1 entry match');
  const row = page.getByTestId('audit-table').getByRole('row').nth(1);
  await expect(row).toContainText('admin@example.com');
  await expect(row).toContainText('credits.grant');
  await expect(row).toContainText(user.userId);
  await expect(row).toContainText('balance: 9 → 14');
  await expect(row).toContainText(reason);
  await shotFromTop(page, 'audit-filtered');

  const csv = await download(page);
  expect(csv.name).toMatch(/^creditdesk-audit-\d{8}-\d{4}\.csv$/);
  expect(csv.lines[0]).toBe('id,created_at,actor,action,target_type,target_id,before,after,reason');
  expect(csv.lines).toHaveLength(2);
  expect(csv.lines[1]).toContain(`,admin@example.com,credits.grant,user,${user.userId},`);
  // The reason's comma and quotes are quoted, not split.
  expect(csv.lines[1]!.endsWith(`,"${reason.replace(/"/g, '""')}"`)).toBe(true);

  // Another filter: an action prefix nothing matches for this target.
  await page.getByLabel('Action').fill('pool.');
  await expect(page.getByTestId('audit-table')).toContainText('No audit entries match these filters.');
});

test('the ledger explorer finds a transaction by email and by idempotency key', async ({ page }) => {
  await page.goto('/ledger');
  await signIn(page);
  const user = await userWithCharge(page, 'ledger');
  await expect(page.getByRole('heading', { name: 'Ledger', level: 1 })).toBeVisible();

  const search = page.getByRole('searchbox', { name: 'Search the ledger' });
  await search.fill(user.email.toUpperCase());
  // The plus allowance and the charge: the user's two entries, newest first.
  await expect(page.getByTestId('ledger-total')).toHaveText('2 transactions match');
  const rows = page.getByTestId('ledger-table').getByRole('row');
  await expect(rows.nth(1)).toContainText(user.transactionId);
  await expect(rows.nth(1)).toContainText('consumption');
  await expect(rows.nth(1)).toContainText(user.email);
  await expect(rows.nth(1)).toContainText('email');

  await search.fill(user.idempotencyKey);
  await expect(page.getByTestId('ledger-total')).toHaveText('1 transaction match');
  await expect(rows.nth(1)).toContainText(user.transactionId);
  await expect(rows.nth(1)).toContainText('idempotency key');
  await expect(rows.nth(1)).toContainText('−1');
  await shotFromTop(page, 'ledger-by-key');

  const csv = await download(page);
  expect(csv.name).toMatch(/^creditdesk-ledger-\d{8}-\d{4}\.csv$/);
  expect(csv.lines).toHaveLength(2);
  expect(csv.lines[1]).toMatch(new RegExp(`^${user.transactionId},\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z,${user.userId},${user.email},consumption,user_credits,1,-1,`));
});

test('the users page exports the users its filters show', async ({ page }) => {
  await page.goto('/users');
  await signIn(page);
  const user = await userWithCharge(page, 'export');
  await page.getByRole('searchbox', { name: 'Search users' }).fill(user.email);
  await expect(page.getByTestId('users-total')).toHaveText('1 user match');
  const csv = await download(page);
  expect(csv.name).toMatch(/^creditdesk-users-\d{8}-\d{4}\.csv$/);
  expect(csv.lines[0]).toBe('user_id,email,tier,monthly_allowance,allowance_balance,bonus_balance,balance,consumed_this_month,lifetime_consumed,created_at,last_activity');
  expect(csv.lines.slice(1)).toEqual([expect.stringMatching(new RegExp(`^${user.userId},${user.email},plus,10,9,0,9,1,1,`))]);
});

test('an analyst reads and exports the audit log and the ledger, with no control that changes anything', async ({ page, browser }) => {
  // Two sign-ins (argon2) and two downloads on a shared machine.
  test.setTimeout(60_000);
  await page.goto('/');
  await signIn(page);
  const analyst = { email: `analyst-audit-${stamp()}@example.com`, password: 'analyst-password-2025' };
  await mutate(page.request, 'admin.admins.create', { ...analyst, role: 'analyst' });
  const user = await userWithCharge(page, 'analyst');

  const context = await browser.newContext();
  const other = await context.newPage();
  await other.goto('/audit');
  await signIn(other, analyst.email, analyst.password);
  await other.getByLabel('Actor').fill('admin@example.com');
  await other.getByLabel('Action').fill('admin.create');
  await expect(other.getByTestId('audit-table')).toContainText(analyst.email);
  const audit = await download(other);
  expect(audit.lines.some((l) => l.includes(`admin.create,admin,`) && l.includes(analyst.email))).toBe(true);
  const main = other.locator('#main');
  await expect(main.getByRole('button', { name: /Grant|Adjust|Refund|Save|Delete|Approve|Reject|Create|Revoke/ })).toHaveCount(0);

  await other.goto('/ledger');
  await other.getByRole('searchbox', { name: 'Search the ledger' }).fill(user.userId);
  await expect(other.getByTestId('ledger-total')).toHaveText('2 transactions match');
  const ledger = await download(other);
  expect(ledger.lines).toHaveLength(3);
  await expect(main.getByRole('button', { name: /Grant|Adjust|Refund|Save|Delete|Approve|Reject|Create|Revoke/ })).toHaveCount(0);
  await shotFromTop(other, 'ledger-analyst');
  await context.close();
});

test('the ledger explorer pages forward from the last row it showed: the next page follows it, and the request says where', async ({ page }) => {
  await page.goto('/ledger');
  await signIn(page);
  // Two pages for one user: its allowance entry, 25 charges and 30 grants (admin.users.grant).
  const s = stamp();
  const userId = `e2e-pages-${s}`;
  const { secret } = await mutate<{ secret: string }>(page.request, 'admin.apiKeys.create', { name: `e2e pages ${s}`, scopes: ['users:write', 'credits:write'] });
  await mutate(page.request, 'users.upsert', { userId, tier: 'pro' }, secret);
  for (let i = 0; i < 25; i++) await mutate(page.request, 'credits.consume', { userId, credits: 1, enhancementType: 'upscale', idempotencyKey: `e2e-pages-${s}-${i}` }, secret);
  for (let i = 0; i < 30; i++) await mutate(page.request, 'admin.users.grant', { userId, credits: 1, reason: `e2e paging ${i}` });

  await page.getByRole('searchbox', { name: 'Search the ledger' }).fill(userId);
  const rows = page.getByTestId('ledger-table').getByRole('row');
  await expect(rows).toHaveCount(51);
  const lastShown = ((await rows.nth(50).getByRole('cell').first().textContent()) ?? '').trim();
  expect(lastShown).toMatch(/^\d+$/);
  const firstShown = ((await rows.nth(1).getByRole('cell').first().textContent()) ?? '').trim();

  const next = page.waitForRequest((r) => r.url().includes('admin.ledger.search') && decodeURIComponent(r.url()).includes(`"before":"${lastShown}"`));
  await page.getByRole('button', { name: 'Next page' }).click();
  await next;
  // Until the next page is drawn the first page's first row is still there: wait for it to go.
  await expect(rows.nth(1).getByRole('cell').first()).not.toHaveText(firstShown);
  const firstOfNext = Number(((await rows.nth(1).getByRole('cell').first().textContent()) ?? '').trim());
  expect(firstOfNext).toBeLessThan(Number(lastShown));
  // Back and forward again: the same first page, then the same second one.
  await page.getByRole('button', { name: 'Previous page' }).click();
  await expect(rows.nth(50).getByRole('cell').first()).toHaveText(lastShown);
  await page.getByRole('button', { name: 'Next page' }).click();
  await expect(rows.nth(1).getByRole('cell').first()).toHaveText(String(firstOfNext));
});
