import { z } from 'zod';
import { balanceSchema } from '../../../shared/credits';
import { markReadInputSchema, markReadResultSchema, notificationsInputSchema, notificationsPageSchema } from '../../../shared/notifications';
import { upsertUserInputSchema } from '../../../shared/users';
import { upsertUser } from '../../ledger/users';
import { listNotifications, markNotificationsRead } from '../../notifications/user-notices';
import { apiKeyProcedure, userReadProcedure } from '../procedures';
import { router } from '../init';

export const usersRouter = router({
  upsert: apiKeyProcedure('users:write')
    .meta({
      openapi: {
        summary: 'Create or update a user (its tier and email)',
        description: 'A new user gets its tier’s monthly allowance at once; a tier change applies the new allowance for the rest of the month.',
        example: { userId: 'user_42', email: 'ada@example.com', tier: 'plus' },
      },
    })
    .input(upsertUserInputSchema)
    .output(balanceSchema.extend({ email: z.string().nullable() }))
    .mutation(({ ctx, input }) => upsertUser(ctx.db, input)),

  notifications: userReadProcedure
    .input(notificationsInputSchema)
    .output(notificationsPageSchema)
    .meta({
      openapi: {
        summary: "A page of a user's notices, newest first",
        description:
          'Upgrade suggestions, low-credit notices and notices of degraded enhancements, each with a title, a message and an action to offer. ' +
          'An API key with credits:read reads any user (with metadata); a user token from auth.userToken reads its own user only.',
        tags: ['users'],
        example: { userId: 'user_42', limit: 25 },
      },
    })
    .query(({ ctx, input }) => listNotifications(ctx.db, input, { withMetadata: ctx.reader.kind === 'apiKey' })),

  // A dotted key: tRPC files it at the flat path users.notifications.markRead beside the query
  // users.notifications (a key cannot be both a procedure and a sub-router).
  'notifications.markRead': userReadProcedure
    .input(markReadInputSchema)
    .output(markReadResultSchema)
    .meta({
      openapi: {
        summary: "Marks a user's notices read",
        description: 'Give the ids read, or upTo: the id of the newest notice shown, which marks it and every older one. Same authorisation as users.notifications.',
        tags: ['users'],
        example: { userId: 'user_42', upTo: '42' },
      },
    })
    .mutation(({ ctx, input }) => markNotificationsRead(ctx.db, input)),
});
