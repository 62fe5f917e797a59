ALTER TABLE "credit_grants" ALTER COLUMN "expires_at" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "credit_grants" ALTER COLUMN "transaction_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "credit_grants" ADD COLUMN "kind" text DEFAULT 'promotional' NOT NULL;--> statement-breakpoint
ALTER TABLE "credit_grants" ADD COLUMN "priority" integer DEFAULT 50 NOT NULL;--> statement-breakpoint
ALTER TABLE "credit_grants" ADD COLUMN "remaining" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "credit_grants" ADD COLUMN "frozen_credits" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "credit_grants" ADD COLUMN "frozen_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "credit_grants" ADD COLUMN "opening_credits" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "credit_grants" ADD COLUMN "reason" text;--> statement-breakpoint
ALTER TABLE "credit_reservations" ADD COLUMN "grant_draws" jsonb;--> statement-breakpoint
ALTER TABLE "credit_transactions" ADD COLUMN "grant_draws" jsonb;--> statement-breakpoint
ALTER TABLE "tier_allowances" ADD COLUMN "rollover_cap" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "tier_allowances" ADD COLUMN "rollover_months" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
CREATE INDEX "credit_grants_spendable_idx" ON "credit_grants" USING btree ("user_id","priority") WHERE "credit_grants"."remaining" > 0 and "credit_grants"."expired_at" is null;--> statement-breakpoint
ALTER TABLE "user_credits" DROP COLUMN "last_bonus_used";--> statement-breakpoint
ALTER TABLE "credit_grants" ADD CONSTRAINT "credit_grants_kind_check" CHECK ("credit_grants"."kind" in ('promotional', 'paid', 'rollover'));--> statement-breakpoint
ALTER TABLE "credit_grants" ADD CONSTRAINT "credit_grants_remaining_check" CHECK ("credit_grants"."remaining" >= 0 and "credit_grants"."frozen_credits" >= 0);--> statement-breakpoint
ALTER TABLE "credit_grants" ADD CONSTRAINT "credit_grants_priority_check" CHECK ("credit_grants"."priority" between 0 and 1000);--> statement-breakpoint
ALTER TABLE "tier_allowances" ADD CONSTRAINT "tier_allowances_rollover_check" CHECK ("tier_allowances"."rollover_cap" >= 0 and "tier_allowances"."rollover_months" between 1 and 24);--> statement-breakpoint
-- Grants tracked one by one (ADR 022). The bonus bucket held every granted credit; the expiring
-- grants each removed up to their amount from it. Each unexpired grant now holds its share of the
-- bucket, soonest to expire first, and what is left of the bucket becomes one promotional grant
-- without expiry. What a grant holds here is its opening amount: no entry names it yet.
UPDATE "credit_grants" g SET "remaining" = s.share, "opening_credits" = s.share
FROM (
  SELECT g2.id, greatest(0, least(g2.credits, uc.bonus_balance - (sum(g2.credits) OVER (PARTITION BY g2.user_id ORDER BY g2.expires_at, g2.id ROWS UNBOUNDED PRECEDING) - g2.credits))) AS share
  FROM "credit_grants" g2 JOIN "user_credits" uc ON uc.user_id = g2.user_id
  WHERE g2.expired_at IS NULL
) s WHERE g.id = s.id;--> statement-breakpoint
INSERT INTO "credit_grants" ("user_id", "kind", "priority", "credits", "remaining", "opening_credits", "reason")
SELECT uc.user_id, 'promotional', 50, uc.bonus_balance - coalesce(t.held, 0), uc.bonus_balance - coalesce(t.held, 0), uc.bonus_balance - coalesce(t.held, 0),
       'bonus credits granted before grants were tracked one by one'
FROM "user_credits" uc
LEFT JOIN (SELECT user_id, sum(remaining)::int AS held FROM "credit_grants" WHERE expired_at IS NULL GROUP BY user_id) t ON t.user_id = uc.user_id
WHERE uc.bonus_balance - coalesce(t.held, 0) > 0;--> statement-breakpoint
ALTER TABLE "credit_grants" ALTER COLUMN "remaining" DROP DEFAULT;