import { z } from 'zod';
import { tierSchema } from './enums';
import { emailSchema, userIdSchema } from './common';

export const upsertUserInputSchema = z.object({
  userId: userIdSchema,
  email: emailSchema.optional(),
  tier: tierSchema,
});
export type UpsertUserInput = z.infer<typeof upsertUserInputSchema>;
