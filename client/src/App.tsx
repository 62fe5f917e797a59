import { useQuery } from '@tanstack/react-query';
import { lazy, Suspense } from 'react';
import { MeProvider } from './auth';
import { Shell } from './components/Shell';
import { errorCode, errorMessage } from './lib/errors';
import { markOnce } from './lib/marks';
import { ME_QUERY_OPTIONS, useTRPC } from './trpc';
import { Skeleton } from './components/Skeleton';

// Their forms validate with the shared zod schemas: loaded when shown, so a signed-in first load carries no zod.
const LoginPage = lazy(() => import('./pages/LoginPage').then((m) => ({ default: m.LoginPage })));
const ForcedPasswordPage = lazy(() => import('./pages/ForcedPasswordPage').then((m) => ({ default: m.ForcedPasswordPage })));

/** auth.me decides: an admin session shows the shell (or the forced password change first), UNAUTHORIZED shows the login page. */
export function App() {
  const trpc = useTRPC();
  const me = useQuery(trpc.auth.me.queryOptions(undefined, ME_QUERY_OPTIONS));

  if (me.isError && errorCode(me.error) === 'UNAUTHORIZED') {
    return (
      <Suspense fallback={<BootSkeleton />}>
        <LoginPage />
      </Suspense>
    );
  }
  if (me.data?.mustChangePassword) {
    return (
      <Suspense fallback={<BootSkeleton />}>
        <ForcedPasswordPage me={me.data} />
      </Suspense>
    );
  }
  if (me.data) {
    markOnce('cd:signed-in');
    return (
      <MeProvider value={me.data}>
        <Shell />
      </MeProvider>
    );
  }
  if (me.isError) {
    return (
      <div className="center-screen">
        <div className="panel boot-panel" role="alert">
          <h1>Creditdesk is unavailable</h1>
          <p>{errorMessage(me.error)}</p>
          <button type="button" className="button button-primary" onClick={() => void me.refetch()} disabled={me.isFetching}>
            {me.isFetching ? 'Retrying…' : 'Retry'}
          </button>
        </div>
      </div>
    );
  }
  return <BootSkeleton />;
}

function BootSkeleton() {
  return (
    <div className="center-screen" aria-busy="true">
      <div className="boot-skeleton">
        <Skeleton lines={4} />
      </div>
    </div>
  );
}
