import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../auth/api-keys';
import { cliActor } from '../auth/audit';
import { createTestEnv, uniqueId, type TestEnv } from '../test/harness';
import { balanceRow, countEntries, expectLedgerClean } from '../test/ledger-helpers';
import { repoRoot, startServer, type ServerProcess } from '../test/spawn';

const run = promisify(execFile);
const bin = (name: string) => path.join(repoRoot, 'node_modules/.bin', name);

let env: TestEnv;
let server: ServerProcess;
let secret: string;

beforeAll(async () => {
  env = await createTestEnv();
  server = await startServer({ ...env.env, LOG_LEVEL: 'warn', DATABASE_POOL_MAX: '5' });
  ({ secret } = await createApiKey(env.deps.dbHandle.db, cliActor, { name: 'example app', scopes: ['users:write', 'credits:read', 'credits:write'] }));
}, 120_000);
afterAll(async () => {
  await server?.stop();
  await env?.close();
});

/** Runs an example app against the live server; its output as `label: value` pairs. */
async function runExample(command: string, args: string[], cwd: string, prefix: string) {
  const { stdout } = await run(command, args, {
    cwd: path.join(repoRoot, cwd),
    env: { ...process.env, CREDITDESK_URL: server.url, CREDITDESK_API_KEY: secret, EXAMPLE_USER_PREFIX: prefix },
    timeout: 60_000,
  });
  return Object.fromEntries(
    stdout
      .trim()
      .split('\n')
      .map((line) => [line.slice(0, line.indexOf(': ')), line.slice(line.indexOf(': ') + 2)]),
  );
}

/** What both example apps must have done, read from their output and from the database. */
async function expectTheStory(out: Record<string, string>, prefix: string) {
  expect(out.created).toMatch(new RegExp(`^${prefix}-plus on plus with \\d+ credits$`));
  const start = Number(out.balance);
  expect(start).toBeGreaterThan(2);
  expect(out['balance with user token']).toBe(String(start));
  expect(out.consumed).toMatch(new RegExp(`^2 credits in transaction \\d+, ${start - 2} left$`));
  expect(out.replayed).toMatch(/^same transaction \d+, nothing charged twice$/);
  expect(out['balance after replay']).toBe(String(start - 2));
  expect(out['free user refused']).toMatch(/^INSUFFICIENT_CREDITS \(HTTP 412\): /);
  const db = env.deps.dbHandle.db;
  expect((await balanceRow(db, `${prefix}-plus`)).total).toBe(start - 2);
  expect(await countEntries(db, `${prefix}-plus`, 'consumption')).toBe(1);
  expect(await countEntries(db, `${prefix}-free`, 'consumption')).toBe(0);
  await expectLedgerClean(db);
}

describe('[EXAMPLES] product apps against a live server process', () => {
  it('the TypeScript app type-checks under NodeNext against the SDK', async () => {
    const { stdout } = await run(bin('tsc'), ['-p', 'examples/ts-app/tsconfig.json'], { cwd: repoRoot }).catch((err: { stdout: string }) => ({ stdout: `FAILED\n${err.stdout}` }));
    expect(stdout).toBe('');
  }, 120_000);

  it('the TypeScript app (through @creditdesk/sdk) creates a user, charges once despite a replay, and reads the free user’s refusal reason', async () => {
    const prefix = uniqueId('ts');
    const out = await runExample(bin('tsx'), ['--tsconfig', 'tsconfig.json', 'src/main.ts'], 'examples/ts-app', prefix);
    await expectTheStory(out, prefix);
  }, 90_000);

  it('the Python app (standard library only) does the same over plain HTTP', async () => {
    const prefix = uniqueId('py');
    const out = await runExample('python3', ['main.py'], 'examples/python-app', prefix);
    await expectTheStory(out, prefix);
  }, 90_000);
});
