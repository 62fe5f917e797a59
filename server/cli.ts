import { parseArgs } from 'node:util';
import pino from 'pino';
import { z } from 'zod';
import { createAdminInputSchema, createApiKeyInputSchema } from '../shared/auth';
import { createAdmin } from './auth/admins';
import { KEY_CACHE_TTL_MS } from './auth/api-key-auth';
import { announceKeyChangeOnce } from './auth/api-key-changes';
import { createApiKey, listApiKeys, revokeApiKey } from './auth/api-keys';
import { cliActor } from './auth/audit';
import { ConfigError, loadConfig } from './config';
import { openDb } from './db/client';
import { installationId } from './db/installation';
import { migrate } from './db/migrate';
import { DomainError } from './errors';
import { connectRedis, redisPrefixFor } from './redis';

const usage = `Usage: npm run admin -- <command> [options]

Commands:
  create-admin --email EMAIL [--role admin|analyst] [--password PASSWORD]
      Creates an admin account; prints a generated password when none is given,
      which must be changed at the first sign-in.
  create-api-key --name NAME --scopes SCOPE[,SCOPE...]
      Creates an API key for a product app; prints the key once, alone on the last line.
      Scopes: credits:read, credits:write, enhance, users:write
  list-api-keys
      Lists API keys (never their secrets).
  revoke-api-key --id ID
      Revokes an API key at once.

The database is DATABASE_URL, or the embedded one under DATA_DIR (.data) when unset;
stop a running embedded server first, since PGlite admits one process at a time.`;

class UsageError extends Error {}

function option(values: Record<string, unknown>, name: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v === '') throw new UsageError(`--${name} is required`);
  return v;
}

function parse<T>(schema: z.ZodType<T>, input: unknown): T {
  const result = schema.safeParse(input);
  if (!result.success) {
    throw new UsageError(result.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; '));
  }
  return result.data;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help') {
    process.stdout.write(`${usage}\n`);
    return command ? 0 : 2;
  }
  const { values } = parseArgs({
    args: rest,
    options: {
      email: { type: 'string' },
      role: { type: 'string' },
      password: { type: 'string' },
      name: { type: 'string' },
      scopes: { type: 'string' },
      id: { type: 'string' },
    },
    strict: true,
  });
  const config = loadConfig();
  const handle = await openDb({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR, maxConnections: 2 });
  try {
    await migrate(handle);
    const db = handle.db;
    switch (command) {
      case 'create-admin': {
        const input = parse(createAdminInputSchema, {
          email: option(values, 'email'),
          role: values.role ?? 'admin',
          password: values.password,
        });
        const admin = await db.transaction((tx) => createAdmin(tx, cliActor, input));
        process.stdout.write(`Created ${admin.role} ${admin.email}\n`);
        if (admin.generatedPassword) process.stdout.write(`Password (shown once, to be changed at the first sign-in): ${admin.generatedPassword}\n`);
        return 0;
      }
      case 'create-api-key': {
        const input = parse(createApiKeyInputSchema, {
          name: option(values, 'name'),
          scopes: option(values, 'scopes')
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
        });
        const { apiKey, secret } = await db.transaction((tx) => createApiKey(tx, cliActor, input));
        process.stdout.write(`Created API key "${apiKey.name}" (${apiKey.id}) with scopes ${apiKey.scopes.join(', ')}.\n`);
        process.stdout.write(`Store it now; it is not shown again:\n${secret}\n`);
        return 0;
      }
      case 'list-api-keys': {
        const keys = await listApiKeys(db);
        if (keys.length === 0) process.stdout.write('No API keys.\n');
        for (const k of keys) {
          const expired = k.expiresAt !== null && Date.parse(k.expiresAt) <= Date.now();
          const status = k.revokedAt ? `revoked ${k.revokedAt}` : expired ? `expired ${k.expiresAt}` : k.expiresAt ? `active until ${k.expiresAt}` : 'active';
          process.stdout.write(`${k.id}  ${k.prefix}…  ${k.name}  [${k.scopes.join(',')}]  ${status}  last used ${k.lastUsedAt ?? 'never'}\n`);
        }
        return 0;
      }
      case 'revoke-api-key': {
        const id = parse(z.string().uuid('--id must be an API key id (a UUID)'), option(values, 'id'));
        const key = await revokeApiKey(db, cliActor, id);
        // Running servers hold keys in memory: tell them, on the channel they listen to (ADR 015).
        let redis: Awaited<ReturnType<typeof connectRedis>> = null;
        try {
          redis = await connectRedis(config, pino({ level: 'silent' }));
          await announceKeyChangeOnce({ redis, redisPrefix: redisPrefixFor(config, await installationId(db)), dbHandle: handle }, id);
        } catch (err) {
          process.stderr.write(`Warning: revoked, but running servers could not be told (${(err as Error).message}); they stop accepting the key within ${KEY_CACHE_TTL_MS / 1000} s.\n`);
        } finally {
          redis?.disconnect();
        }
        process.stdout.write(`Revoked API key "${key.name}" (${key.id}).\n`);
        return 0;
      }
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } finally {
    await handle.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError || (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS'))) {
      process.stderr.write(`Error: ${err.message}\n\n${usage}\n`);
      process.exit(2);
    }
    if (err instanceof ConfigError || err instanceof DomainError) {
      process.stderr.write(`Error: ${err.message}\n`);
      process.exit(1);
    }
    pino().error({ err }, 'admin command failed');
    process.exit(1);
  },
);
