import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRows } from '../db/rows';
import { cliActor } from '../auth/audit';
import { grantCredits } from '../ledger/admin-ops';
import { consumeCredits } from '../ledger/consume';
import { ledgerSqlRow, toLedgerRow } from '../ledger/ledger-search';
import { createTestEnv, type TestEnv } from '../test/harness';
import { expectLedgerClean, key, newUser } from '../test/ledger-helpers';
import { latestLedgerRows, liveLedgerColumns } from './ledger-tail';
import { decodeLiveLedgerRow, LedgerRowError } from './live-ledger-row';

let env: TestEnv;
const db = () => env.deps.dbHandle.db;

beforeAll(async () => {
  env = await createTestEnv();
});
afterAll(async () => {
  await env?.close();
});

/** A user with a consume and a grant: rows with money, a source, and nulls where a grant has none. */
async function rowsOfNewUser() {
  const userId = await newUser(db(), 'pro');
  await consumeCredits(db(), { userId, credits: 2, enhancementType: 'upscale', idempotencyKey: key() });
  await grantCredits(db(), cliActor, { userId, credits: 5, reason: 'decoder test' });
  const raw = await rawRows(db(), sql`select ${liveLedgerColumns} from credit_transactions ct join users u on u.user_id = ct.user_id where ct.user_id = ${userId} order by ct.id`);
  return { userId, raw };
}

describe('the live ledger row decoder', () => {
  it('[LIVE] reads every ledger row exactly as the ledger search schema does', async () => {
    const { userId, raw } = await rowsOfNewUser();
    expect(raw.length).toBeGreaterThanOrEqual(2);
    for (const row of raw) expect(decodeLiveLedgerRow(row)).toEqual(toLedgerRow(ledgerSqlRow.parse(row)));
    // The live reads return what the decoder makes of them.
    const live = await latestLedgerRows(db(), { userId }, 10);
    expect(live.map((r) => r.transactionId)).toEqual(raw.map((r) => r.id));
    expect(live.find((r) => r.type === 'consumption')).toMatchObject({ userId, creditsUsed: 2, creditsDelta: -2, source: 'user_credits', matchedBy: null });
    await expectLedgerClean(db());
  });

  it('[LIVE] accepts each driver form of an integer column (PGlite numbers, postgres.js text, bigint) as the schema does', async () => {
    const { raw } = await rowsOfNewUser();
    const row = raw[0]!;
    for (const credits of [7, '7', 7n, '-7']) {
      const given = { ...row, credits_used: credits };
      expect(decodeLiveLedgerRow(given)).toEqual(toLedgerRow(ledgerSqlRow.parse(given)));
    }
    await expectLedgerClean(db());
  });

  it('[LIVE] refuses every value the ledger search schema refuses: no integer past 2^53, no money as a float', async () => {
    const { raw } = await rowsOfNewUser();
    const row = raw[0]!;
    const bad: [string, unknown][] = [
      ['credits_used', '9007199254740993'],
      ['credits_used', 2 ** 53],
      ['credits_used', 1.5],
      ['credits_used', '1.5'],
      ['credits_used', 'two'],
      ['credits_used', true],
      ['credits_used', null],
      ['credits_delta', ' 1'],
      ['balance_after', undefined],
      ['cost_usd', 0.1],
      ['cost_usd', '1e3'],
      ['cost_usd', '.5'],
      ['source', 'elsewhere'],
      ['user_id', null],
      ['user_id', 5],
      ['transaction_type', null],
      ['status', undefined],
      ['email', 5],
      ['id', null],
      ['id', {}],
      ['created_at', null],
    ];
    for (const [column, value] of bad) {
      const given = { ...row, [column]: value };
      expect(() => ledgerSqlRow.parse(given), `${column} = ${String(value)} (schema)`).toThrow();
      expect(() => decodeLiveLedgerRow(given), `${column} = ${String(value)} (decoder)`).toThrow(LedgerRowError);
    }
    // A search's match reason is never a live row's: the live select always reads it as null.
    expect(() => decodeLiveLedgerRow({ ...row, matched_by: 'email' })).toThrow(LedgerRowError);
    await expectLedgerClean(db());
  });
});
