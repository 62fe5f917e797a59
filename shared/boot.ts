import type { z } from 'zod';
import type { dashboardSchema } from './analytics';
import type { meSchema } from './auth';

/**
 * What the server writes into the SPA's page for a signed-in admin, so a cold load does not wait
 * on a round trip for them: auth.me's answer, and on `/` admin.dashboard's. The same values those
 * procedures answer (they are called to produce them); absent when the server could not.
 */
export type BootData = { me: z.infer<typeof meSchema>; dashboard?: z.infer<typeof dashboardSchema> };

/** The id of the page's `<script type="application/json">` that carries it. */
export const BOOT_ELEMENT_ID = 'cd-boot';
