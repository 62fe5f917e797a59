import { router } from './init';
import { alertsRouter } from './routers/alerts';
import { auditRouter } from './routers/audit';
import { adminUsersRouter, tiersRouter } from './routers/admin-users';
import { dashboardProcedure, usageRouter } from './routers/analytics';
import { reportsRouter } from './routers/reports';
import { authRouter } from './routers/auth';
import { creditsRouter } from './routers/credits';
import { enhanceRouter } from './routers/enhance';
import { jobsRouter } from './routers/jobs';
import { liveRouter } from './routers/live';
import { ledgerRouter } from './routers/ledger';
import { paymentsRouter } from './routers/payments';
import { providersRouter } from './routers/providers';
import { platformSettingsRouter, poolsRouter, purchaseRequestsRouter } from './routers/pools';
import { adminsRouter, apiKeysRouter } from './routers/settings';
import { usersRouter } from './routers/users';
import { webhooksRouter } from './routers/webhooks';

export const appRouter = router({
  auth: authRouter,
  users: usersRouter,
  credits: creditsRouter,
  enhance: enhanceRouter,
  admin: router({
    apiKeys: apiKeysRouter,
    admins: adminsRouter,
    users: adminUsersRouter,
    tiers: tiersRouter,
    pools: poolsRouter,
    purchaseRequests: purchaseRequestsRouter,
    platformSettings: platformSettingsRouter,
    providers: providersRouter,
    jobs: jobsRouter,
    dashboard: dashboardProcedure,
    usage: usageRouter,
    alerts: alertsRouter,
    audit: auditRouter,
    ledger: ledgerRouter,
    reports: reportsRouter,
    webhooks: webhooksRouter,
    payments: paymentsRouter,
    live: liveRouter,
  }),
});

export type AppRouter = typeof appRouter;
