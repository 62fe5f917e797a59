import { QueryCache, QueryClient, MutationCache } from '@tanstack/react-query';
import { createTRPCClient, httpBatchLink, httpLink, httpSubscriptionLink, splitLink } from '@trpc/client';
import { createTRPCContext } from '@trpc/tanstack-react-query';
import type { AppRouter } from '../../server/trpc/root';
import { errorCode } from './lib/errors';

export const { TRPCProvider, useTRPC, useTRPCClient } = createTRPCContext<AppRouter>();

/** How auth.me is asked, by the app and by the dashboard's preload alike (one cached answer). */
export const ME_QUERY_OPTIONS = { staleTime: 5 * 60_000, retry: false } as const;

/** The tRPC query key of `auth.me`; matched by path so it works outside React. */
export const isMeQuery = (key: readonly unknown[]) => {
  const path = key[0];
  return Array.isArray(path) && path[0] === 'auth' && path[1] === 'me';
};

export function createQueryClient(): QueryClient {
  const client: QueryClient = new QueryClient({
    queryCache: new QueryCache({
      onError: (error, query) => {
        // A session that expired while the app was open: let auth.me decide again, which shows the login page.
        if (errorCode(error) === 'UNAUTHORIZED' && !isMeQuery(query.queryKey)) {
          void client.invalidateQueries({ predicate: (q) => isMeQuery(q.queryKey) });
        }
      },
    }),
    mutationCache: new MutationCache({
      onError: (error, _vars, _ctx, mutation) => {
        const key = mutation.options.mutationKey ?? [];
        const isLogin = Array.isArray(key[0]) && key[0][0] === 'auth';
        if (errorCode(error) === 'UNAUTHORIZED' && !isLogin) {
          void client.invalidateQueries({ predicate: (q) => isMeQuery(q.queryKey) });
        }
      },
    }),
    defaultOptions: {
      queries: {
        staleTime: 30_000,
        // A refusal (4xx) will not change on retry; a server or network failure may.
        retry: (failures, error) => {
          const status = httpStatus(error);
          if (status !== null && status < 500) return false;
          return failures < 2;
        },
      },
      mutations: { retry: false },
    },
  });
  return client;
}

function httpStatus(error: unknown): number | null {
  const data = (error as { data?: { httpStatus?: unknown } } | null)?.data;
  return typeof data?.httpStatus === 'number' ? data.httpStatus : null;
}

export function createClient() {
  return createTRPCClient<AppRouter>({
    links: [
      // Live streams (admin.live.*) are server-sent events on the same origin: the session cookie goes along.
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: httpSubscriptionLink({ url: '/trpc' }),
        // The server refuses auth.* in a batch and batches past 20 calls (or past its URL length).
        false: splitLink({
          condition: (op) => op.path.startsWith('auth.'),
          true: httpLink({ url: '/trpc' }),
          false: httpBatchLink({ url: '/trpc', maxItems: 20, maxURLLength: 8_000 }),
        }),
      }),
    ],
  });
}
