import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';

test('the API reference at /docs renders the OpenAPI document with nothing blocked by the CSP and nothing fetched from elsewhere', async ({ page, baseURL }) => {
  const problems: string[] = [];
  const elsewhere: string[] = [];
  page.on('console', (msg) => {
    // The reference's hosted AI agent (proxy.scalar.com) and its web fonts (fonts.scalar.com, named in
    // its bundled CSS): /docs's CSP refuses both by design, and system fonts are used.
    if (/(proxy|fonts)\.scalar\.com/.test(msg.text())) return;
    if (msg.type() === 'error' || /Content Security Policy/i.test(msg.text())) problems.push(msg.text());
  });
  page.on('pageerror', (err) => problems.push(err.message));
  // What actually reached another origin (a request the CSP refused gets no response).
  page.on('response', (res) => {
    const url = new URL(res.url());
    if (!['data:', 'blob:'].includes(url.protocol) && url.origin !== new URL(baseURL!).origin) elsewhere.push(res.url());
    else if (res.status() >= 400) problems.push(`${res.status()} ${res.url()}`);
  });

  await page.goto('/docs');
  await expect(page.getByRole('heading', { name: 'Creditdesk API' }).first()).toBeVisible({ timeout: 20_000 });
  // Every tag open: an operation's summary and its path, both from the document.
  const sidebar = page.getByRole('navigation', { name: 'Sidebar for Creditdesk API' });
  await expect(sidebar.getByRole('button', { name: /Charge credits for an enhancement the product ran itself/ })).toBeVisible();
  await sidebar.getByRole('button', { name: /Charge credits for an enhancement the product ran itself/ }).click();
  await expect(page.getByText('/trpc/credits.consume').first()).toBeVisible();
  // The viewport only: with every tag open the whole page is too long to shoot in time.
  await page.screenshot({ path: fileURLToPath(new URL('./artifacts/api-docs.png', import.meta.url)) });
  expect(elsewhere).toEqual([]);
  expect(problems).toEqual([]);
});
