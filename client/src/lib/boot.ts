import type { QueryClient } from '@tanstack/react-query';
import type { TRPCClient } from '@trpc/client';
import { createTRPCOptionsProxy } from '@trpc/tanstack-react-query';
import type { AppRouter } from '../../../server/trpc/root';
import { BOOT_ELEMENT_ID, type BootData } from '../../../shared/boot';

/** The answers the server wrote into the page (server/spa/boot-page.ts), or null: a visitor not signed in, or the dev server. */
function readBoot(): BootData | null {
  const text = document.getElementById(BOOT_ELEMENT_ID)?.textContent;
  if (!text) return null;
  try {
    return JSON.parse(text) as BootData;
  } catch {
    return null;
  }
}

/**
 * Puts the page's answers in the query cache before the first render, so a signed-in cold load
 * renders the shell (and on `/` the figures) without waiting on auth.me and admin.dashboard.
 * Read once: a later render of the same queries asks the server as usual.
 */
export function seedFromBoot(queryClient: QueryClient, trpcClient: TRPCClient<AppRouter>): void {
  const boot = readBoot();
  if (!boot) return;
  const trpc = createTRPCOptionsProxy<AppRouter>({ client: trpcClient, queryClient });
  queryClient.setQueryData(trpc.auth.me.queryKey(), boot.me);
  if (boot.dashboard) queryClient.setQueryData(trpc.admin.dashboard.queryKey(), boot.dashboard);
  document.getElementById(BOOT_ELEMENT_ID)?.remove();
}
