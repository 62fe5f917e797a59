/** Fixed settings shared by the Playwright config, the server launcher and the specs. */
// E2E_PORT lets several Playwright runs share one machine (each its own server).
export const E2E_PORT = Number(process.env.E2E_PORT ?? 3100);
export const E2E_HOST = '127.0.0.1';
export const BASE_URL = `http://${E2E_HOST}:${E2E_PORT}`;
export const ADMIN_EMAIL = 'admin@example.com';
export const ADMIN_PASSWORD = 'e2e-Admin-password-0417';
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Where the server launcher writes its pid, so a spec can ask it to restart the server (SIGUSR2). */
export const restartPidFile = (port: string | number) => `${process.env.TMPDIR ?? '/tmp'}/creditdesk-e2e-launcher-${port}.pid`;
/** The server's STRIPE_WEBHOOK_SECRET: specs sign Stripe events with it (e2e/payments.spec.ts). */
export const E2E_STRIPE_SECRET = 'whsec_e2e_payments_spec_secret';
/** Where the server launcher writes its database's URL, so a spec can inject a fault there (e2e/payments.spec.ts). */
export const databaseUrlFile = (port: string | number) => `${process.env.TMPDIR ?? '/tmp'}/creditdesk-e2e-database-${port}.url`;
