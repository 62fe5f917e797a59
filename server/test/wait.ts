import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls `probe` until it returns something truthy, and returns it; fails after `timeoutMs`. Tests
 * wait on a condition with this, never on a fixed sleep (the suite runs on busy machines).
 */
export async function waitFor<T>(probe: () => Promise<T | undefined | null | false> | T | undefined | null | false, opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {}): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting${opts.what ? ` for ${opts.what}` : ''}`);
    await sleep(opts.intervalMs ?? 50);
  }
}
