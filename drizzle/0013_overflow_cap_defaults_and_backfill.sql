-- The default monthly overflow caps: plus 20 and pro 50 credits; free has no pool access (null = unlimited).
UPDATE "tier_allowances" SET "monthly_overflow_cap" = 20 WHERE "tier" = 'plus';--> statement-breakpoint
UPDATE "tier_allowances" SET "monthly_overflow_cap" = 50 WHERE "tier" = 'pro';--> statement-breakpoint
-- The allowance spent so far this period: what is missing from the allowance bucket. (A balance already
-- minted by an earlier tier change cannot be told apart here; the next monthly reset ends it.)
UPDATE "user_credits" SET "allowance_spent_this_period" = greatest(0, "monthly_allowance" - "current_balance");--> statement-breakpoint
-- Overflow since the last reset, from the ledger: platform-paid charges and holds, less released holds.
UPDATE "user_credits" uc SET "overflow_this_period" = greatest(0, coalesce((
  SELECT sum(CASE WHEN t."transaction_type" = 'release' THEN -t."credits_used" ELSE t."credits_used" END)
  FROM "credit_transactions" t
  WHERE t."user_id" = uc."user_id" AND t."source" = 'platform_pool'
    AND t."transaction_type" IN ('consumption', 'hold', 'release') AND t."created_at" >= uc."last_reset_at"
), 0));
