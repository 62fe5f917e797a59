// The global sheet first: the components' CSS modules come after it, so theirs win ties with it.
import './styles.css';
import { QueryClientProvider } from '@tanstack/react-query';
import { StrictMode, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { ToastProvider } from './components/Toasts';
import { preloadDashboard } from './pages/DashboardPage';
import { createClient, createQueryClient, TRPCProvider } from './trpc';

function Root() {
  const [queryClient] = useState(createQueryClient);
  const [trpcClient] = useState(createClient);
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

// A cold load of the dashboard fetches its code while auth.me answers, not after.
if (window.location.pathname === '/') preloadDashboard();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <Root />
  </StrictMode>,
);
