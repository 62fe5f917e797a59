import type { AdminRole } from '../../shared/enums';

/** The signed-in admin a session resolves to; its own file so sessions.ts and totp.ts need not import each other. */
export type SessionAdmin = { id: string; email: string; role: AdminRole; sessionId: string; mustChangePassword: boolean };
