import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { z } from 'zod';

const booleanFlag = z.enum(['true', 'false', '1', '0', ''], { message: 'expects true or false' }).transform((v) => v === 'true' || v === '1');

const optionalUrl = (protocols: string[]) =>
  z
    .string()
    .url('expects a URL')
    .refine((v) => protocols.some((p) => v.startsWith(p)), `expects a URL starting with ${protocols.join(' or ')}`)
    .optional();

/** An address, a CIDR, or one of proxy-addr's names for a range (what Fastify's trustProxy list takes). */
const isProxyEntry = (entry: string) => {
  if (['loopback', 'linklocal', 'uniquelocal'].includes(entry)) return true;
  const [address, bits, extra] = entry.split('/');
  const family = isIP(address ?? '');
  if (family === 0 || extra !== undefined) return false;
  return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128));
};

const proxyList = z
  .string()
  .transform((v) =>
    v
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean),
  )
  .refine((list) => list.every(isProxyEntry), 'expects comma-separated proxy addresses or CIDRs (e.g. 10.0.0.0/8,::1)');

/** An exact origin (`https://app.example.com`, `http://localhost:5173`): scheme, host and port, nothing else. */
const isOrigin = (entry: string) => {
  try {
    const u = new URL(entry);
    return (u.protocol === 'https:' || u.protocol === 'http:') && u.origin === entry;
  } catch {
    return false;
  }
};

const originList = z
  .string()
  .transform((v) =>
    v
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean),
  )
  .refine((list) => list.every(isOrigin), 'expects comma-separated origins such as https://app.example.com (scheme, host and port; no path, no trailing slash, no *)');

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number({ message: 'expects a port number' }).int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('localhost'),
  PUBLIC_URL: optionalUrl(['http://', 'https://']),
  DATABASE_URL: optionalUrl(['postgres://', 'postgresql://']),
  DATABASE_POOL_MAX: z.coerce.number({ message: 'expects a whole number' }).int().min(1).max(500).default(20),
  /** Named prepared statements; `false` for a pooler that cannot keep them (PgBouncer before 1.21 in transaction mode). */
  DATABASE_PREPARE: booleanFlag.default(true),
  /** Product apps' hot mutations answered without tRPC's Fetch adapter (server/trpc/direct-calls.ts); `false` hands them back to it. */
  TRPC_DIRECT_CALLS: booleanFlag.default(true),
  /** `off` forces in-process jobs even when Redis runs on the default address. */
  REDIS_URL: z.union([z.literal('off'), optionalUrl(['redis://', 'rediss://'])]).optional(),
  /** Unset: `creditdesk:<installation id>`, so installs sharing a host's Redis never share keys (see createDeps). */
  REDIS_PREFIX: z
    .string()
    .regex(/^[a-z0-9:_-]+$/i, 'expects letters, digits, : _ -')
    .optional(),
  DATA_DIR: z.string().min(1).default('.data'),
  MASTER_KEY: z
    .string()
    .regex(/^[0-9a-f]{64}$/i, 'expects 64 hex characters (32 bytes)')
    .optional(),
  ADMIN_EMAIL: z
    .string()
    .regex(/^[^\s@]+@[^\s@]+$/, 'expects an email address')
    .optional(),
  ADMIN_PASSWORD: z.string().min(12, 'expects at least 12 characters').optional(),
  SESSION_TTL_HOURS: z.coerce
    .number({ message: 'expects a number of hours' })
    .positive()
    .max(24 * 30)
    .default(12),
  /** The proxies whose X-Forwarded-For is believed; none by default, so the header cannot forge an address. */
  TRUST_PROXY: proxyList.default([]),
  /** Browsers on these origins may call the user-token procedures (credits.balance, users.notifications, …). */
  CORS_ORIGINS: originList.default([]),
  /** When set, GET /metrics needs `Authorization: Bearer <token>`. */
  METRICS_TOKEN: z.string().min(16, 'expects at least 16 characters').optional(),
  LOGIN_MAX_FAILURES: z.coerce.number({ message: 'expects a whole number' }).int().min(1).default(5),
  LOGIN_WINDOW_SECONDS: z.coerce.number({ message: 'expects a number of seconds' }).int().min(1).default(900),
  USER_TOKEN_TTL_SECONDS: z.coerce.number({ message: 'expects a number of seconds' }).int().min(30).max(86_400).default(900),
  ALLOW_PRIVATE_IMAGE_URLS: booleanFlag.default(false),
  /** Lets admin-set URLs (providers, billing, channels, health checks, webhooks) reach loopback and private addresses. */
  ALLOW_PRIVATE_OUTBOUND: booleanFlag.default(false),
  CIRCUIT_FAILURE_THRESHOLD: z.coerce.number({ message: 'expects a whole number' }).int().min(1).default(5),
  CIRCUIT_WINDOW_SECONDS: z.coerce.number({ message: 'expects a number of seconds' }).positive().default(60),
  CIRCUIT_COOLDOWN_SECONDS: z.coerce.number({ message: 'expects a number of seconds' }).positive().default(30),
  /** How long an enhancement's hold outlives its providers' timeouts before expiry releases it. */
  ENHANCE_HOLD_GRACE_SECONDS: z.coerce.number({ message: 'expects a number of seconds' }).int().min(1).max(3600).default(60),
  ENHANCE_ASYNC_LEASE_SECONDS: z.coerce.number({ message: 'expects a number of seconds' }).int().min(1).max(600).default(30),
  /** enhance.* calls a minute per end user and per API key; far above what a real app sends. */
  ENHANCE_RATE_PER_USER_PER_MINUTE: z.coerce.number({ message: 'expects a whole number' }).int().min(1).default(120),
  ENHANCE_RATE_PER_KEY_PER_MINUTE: z.coerce.number({ message: 'expects a whole number' }).int().min(1).default(60_000),
  /** Images under /media older than this are deleted by the cleanup-media job. */
  /** How long a product app's webhook receiver may take to answer before the attempt counts as failed. */
  WEBHOOK_TIMEOUT_SECONDS: z.coerce.number({ message: 'expects a number of seconds' }).positive().max(60).default(10),
  /** The signing secret of the Stripe webhook endpoint (`whsec_…`); unset, POST /webhooks/stripe answers 503. */
  STRIPE_WEBHOOK_SECRET: z.string().min(8, 'expects the endpoint signing secret (whsec_…)').optional(),
  /** How old a signed Stripe event's timestamp may be before it is refused as a replay. */
  STRIPE_WEBHOOK_TOLERANCE_SECONDS: z.coerce.number({ message: 'expects a number of seconds' }).int().min(1).max(3600).default(300),
  MEDIA_RETENTION_DAYS: z.coerce.number({ message: 'expects a number of days' }).int().min(1).default(30),
  /** Past this size /media takes no more files: the degraded look falls back to the CSS filter alone. */
  MEDIA_QUOTA_MB: z.coerce.number({ message: 'expects a number of megabytes' }).int().min(1).default(5120),
  JOBS_TIMEZONE: z
    .string()
    .min(1)
    .refine((tz) => {
      try {
        new Intl.DateTimeFormat('en', { timeZone: tz });
        return true;
      } catch {
        return false;
      }
    }, 'expects an IANA time zone such as UTC or Europe/Berlin')
    .default('UTC'),
  /** With Redis, whether the server process also works jobs (more workers: npm run worker). */
  WORKER_IN_SERVER: booleanFlag.default(true),
  /** HTTP server processes on PORT (Node cluster); `auto`: one per core. More than one needs PostgreSQL and Redis. */
  SERVER_PROCESSES: z
    .string()
    .regex(/^(auto|[1-9]\d?)$/, 'expects a number of processes (1-99) or auto')
    .default('1')
    .transform((v) => (v === 'auto' ? availableParallelism() : Number(v))),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  STATIC_DIR: z.string().min(1).default('dist/client'),
  /** How long a signed-in admin's `/` waits for the dashboard's figures before it goes without them. */
  BOOT_FIGURES_WAIT_MS: z.coerce.number({ message: 'expects a number of milliseconds' }).int().min(0).max(5000).default(300),
});

export type Config = z.infer<typeof envSchema> & { publicUrl: string; secureCookies: boolean };

/** The configuration once the database is open: the Redis prefix is known (set, or this installation's). */
export type AppConfig = Config & { REDIS_PREFIX: string };

export class ConfigError extends Error {}

/** Parses the environment once; a bad value becomes one line naming the variable and what it expects. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = String(issue.path[0] ?? 'environment');
    const got = cleaned[name] === undefined ? '' : ` (got "${cleaned[name]}")`;
    throw new ConfigError(`Invalid configuration: ${name} ${issue.message}${got}`);
  }
  const n = parsed.data.SERVER_PROCESSES;
  // What several processes must share lives in PostgreSQL and Redis; PGlite and in-memory throttles are one process's.
  if (n > 1 && !parsed.data.DATABASE_URL) {
    throw new ConfigError(`Invalid configuration: SERVER_PROCESSES=${n} needs DATABASE_URL (the embedded PGlite database is opened by one process only)`);
  }
  if (n > 1 && (parsed.data.REDIS_URL === undefined || parsed.data.REDIS_URL === 'off')) {
    throw new ConfigError(`Invalid configuration: SERVER_PROCESSES=${n} needs REDIS_URL (throttles, rate limits, circuit breakers, live streams and jobs are shared through Redis)`);
  }
  const publicUrl = parsed.data.PUBLIC_URL ?? `http://localhost:${parsed.data.PORT}`;
  return { ...parsed.data, publicUrl, secureCookies: publicUrl.startsWith('https://') };
}
