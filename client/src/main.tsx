// The global sheet first: the components' CSS modules come after it, so theirs win ties with it.
import './styles.css';
import { QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { ToastProvider } from './components/Toasts';
import { seedFromBoot } from './lib/boot';
import { markOnce } from './lib/marks';
import { preloadDashboard } from './pages/DashboardPage';
import { createClient, createQueryClient, TRPCProvider } from './trpc';

// One of each for the page's life, made before React so a cold load's first queries need not wait for it.
const queryClient = createQueryClient();
const trpcClient = createClient();

function Root() {
  return (
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={trpcClient} queryClient={queryClient}>
        <ToastProvider>
          <App />
        </ToastProvider>
      </TRPCProvider>
    </QueryClientProvider>
  );
}

// Where a cold load spends its time (the spa benchmark's waterfall shows `cd:` marks).
markOnce('cd:entry-run');

// A signed-in page carries auth.me's answer (and on / the figures); otherwise a cold load of the
// dashboard asks for its figures as soon as auth.me answers, not after the first render.
seedFromBoot(queryClient, trpcClient);
if (window.location.pathname === '/') preloadDashboard(queryClient, trpcClient);

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <Root />
  </StrictMode>,
);
