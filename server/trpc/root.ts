import { router } from './init';
import { adminUsersRouter, tiersRouter } from './routers/admin-users';
import { authRouter } from './routers/auth';
import { creditsRouter } from './routers/credits';
import { platformSettingsRouter, poolsRouter, purchaseRequestsRouter } from './routers/pools';
import { adminsRouter, apiKeysRouter } from './routers/settings';
import { usersRouter } from './routers/users';

export const appRouter = router({
  auth: authRouter,
  users: usersRouter,
  credits: creditsRouter,
  admin: router({
    apiKeys: apiKeysRouter,
    admins: adminsRouter,
    users: adminUsersRouter,
    tiers: tiersRouter,
    pools: poolsRouter,
    purchaseRequests: purchaseRequestsRouter,
    platformSettings: platformSettingsRouter,
  }),
});

export type AppRouter = typeof appRouter;
