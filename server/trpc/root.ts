import { router } from './init';
import { authRouter } from './routers/auth';
import { adminsRouter, apiKeysRouter } from './routers/settings';
import { usersRouter } from './routers/users';

export const appRouter = router({
  auth: authRouter,
  users: usersRouter,
  admin: router({
    apiKeys: apiKeysRouter,
    admins: adminsRouter,
  }),
});

export type AppRouter = typeof appRouter;
