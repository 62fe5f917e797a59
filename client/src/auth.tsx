import { createContext, useContext } from 'react';
import type { inferRouterOutputs } from '@trpc/server';
import type { AppRouter } from '../../server/trpc/root';

export type Me = inferRouterOutputs<AppRouter>['auth']['me'];

const MeContext = createContext<Me | null>(null);
export const MeProvider = MeContext.Provider;

/** The signed-in admin; only rendered inside the shell, after auth.me answered. */
export function useMe(): Me {
  const me = useContext(MeContext);
  if (!me) throw new Error('useMe() outside the signed-in shell');
  return me;
}

export const isAdmin = (me: Me) => me.role === 'admin';
