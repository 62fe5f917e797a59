ALTER TABLE "tier_allowances" ADD COLUMN "monthly_overflow_cap" integer;--> statement-breakpoint
ALTER TABLE "user_credits" ADD COLUMN "allowance_spent_this_period" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "user_credits" ADD COLUMN "overflow_this_period" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "tier_allowances" ADD CONSTRAINT "tier_allowances_overflow_cap_check" CHECK ("tier_allowances"."monthly_overflow_cap" is null or "tier_allowances"."monthly_overflow_cap" >= 0);--> statement-breakpoint
ALTER TABLE "user_credits" ADD CONSTRAINT "user_credits_overflow_check" CHECK ("user_credits"."overflow_this_period" >= 0);