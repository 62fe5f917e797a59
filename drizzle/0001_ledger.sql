CREATE TABLE "credit_grants" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"credits" integer NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"expired_at" timestamp with time zone,
	"transaction_id" bigint NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "credit_reservations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" text NOT NULL,
	"credits" integer NOT NULL,
	"bonus_credits" integer DEFAULT 0 NOT NULL,
	"source" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"idempotency_key" text NOT NULL,
	"request_hash" text NOT NULL,
	"enhancement_type" text NOT NULL,
	"moodboard_id" text,
	"provider" text,
	"cost_usd" numeric(14, 6),
	"api_request_id" text,
	"release_reason" text,
	"capture_transaction_id" bigint,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"settled_at" timestamp with time zone,
	CONSTRAINT "credit_reservations_credits_check" CHECK ("credit_reservations"."credits" > 0),
	CONSTRAINT "credit_reservations_status_check" CHECK ("credit_reservations"."status" in ('pending','captured','released','expired')),
	CONSTRAINT "credit_reservations_source_check" CHECK ("credit_reservations"."source" in ('user_credits','platform_pool'))
);
--> statement-breakpoint
CREATE TABLE "credit_transactions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"transaction_type" text NOT NULL,
	"credits_used" integer DEFAULT 0 NOT NULL,
	"credits_delta" integer NOT NULL,
	"bonus_credits" integer DEFAULT 0 NOT NULL,
	"balance_after" integer NOT NULL,
	"source" text,
	"cost_usd" numeric(14, 6),
	"provider" text,
	"api_request_id" text,
	"enhancement_type" text,
	"moodboard_id" text,
	"status" text DEFAULT 'completed' NOT NULL,
	"error_message" text,
	"reservation_id" uuid,
	"idempotency_key" text,
	"request_hash" text,
	"refund_of" bigint,
	"reason" text,
	"actor" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "credit_transactions_type_check" CHECK ("credit_transactions"."transaction_type" in ('allocation','consumption','hold','capture','release','grant','grant_expiry','adjustment','refund','tier_change','reallocation')),
	CONSTRAINT "credit_transactions_source_check" CHECK ("credit_transactions"."source" is null or "credit_transactions"."source" in ('user_credits','platform_pool')),
	CONSTRAINT "credit_transactions_balance_check" CHECK ("credit_transactions"."balance_after" >= 0)
);
--> statement-breakpoint
CREATE TABLE "tier_allowances" (
	"tier" text PRIMARY KEY NOT NULL,
	"monthly_credits" integer NOT NULL,
	"pool_access" boolean NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "tier_allowances_credits_check" CHECK ("tier_allowances"."monthly_credits" >= 0)
);
--> statement-breakpoint
CREATE TABLE "user_credits" (
	"user_id" text PRIMARY KEY NOT NULL,
	"subscription_tier" text NOT NULL,
	"monthly_allowance" integer NOT NULL,
	"current_balance" integer NOT NULL,
	"bonus_balance" integer DEFAULT 0 NOT NULL,
	"consumed_this_month" integer DEFAULT 0 NOT NULL,
	"lifetime_consumed" bigint DEFAULT 0 NOT NULL,
	"last_reset_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_bonus_used" integer DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "user_credits_balance_check" CHECK ("user_credits"."current_balance" >= 0),
	CONSTRAINT "user_credits_bonus_check" CHECK ("user_credits"."bonus_balance" >= 0),
	CONSTRAINT "user_credits_allowance_check" CHECK ("user_credits"."monthly_allowance" >= 0)
);
--> statement-breakpoint
ALTER TABLE "credit_grants" ADD CONSTRAINT "credit_grants_user_id_users_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("user_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "credit_reservations" ADD CONSTRAINT "credit_reservations_user_id_users_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("user_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "credit_transactions" ADD CONSTRAINT "credit_transactions_user_id_users_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("user_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "user_credits" ADD CONSTRAINT "user_credits_user_id_users_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("user_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "credit_grants_due_idx" ON "credit_grants" USING btree ("expires_at") WHERE "credit_grants"."expired_at" is null;--> statement-breakpoint
CREATE UNIQUE INDEX "credit_reservations_idempotency_uq" ON "credit_reservations" USING btree ("idempotency_key");--> statement-breakpoint
CREATE INDEX "credit_reservations_pending_idx" ON "credit_reservations" USING btree ("expires_at") WHERE "credit_reservations"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "credit_reservations_user_idx" ON "credit_reservations" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "credit_transactions_user_idx" ON "credit_transactions" USING btree ("user_id","id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "credit_transactions_created_idx" ON "credit_transactions" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "credit_transactions_reservation_idx" ON "credit_transactions" USING btree ("reservation_id");--> statement-breakpoint
CREATE UNIQUE INDEX "credit_transactions_idempotency_uq" ON "credit_transactions" USING btree ("idempotency_key");--> statement-breakpoint
CREATE UNIQUE INDEX "credit_transactions_refund_uq" ON "credit_transactions" USING btree ("refund_of");--> statement-breakpoint
CREATE INDEX "user_credits_reset_idx" ON "user_credits" USING btree ("last_reset_at");--> statement-breakpoint
CREATE INDEX "user_credits_tier_idx" ON "user_credits" USING btree ("subscription_tier");