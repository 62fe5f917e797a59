CREATE TABLE "credit_pool_stripes" (
	"provider" text NOT NULL,
	"stripe" integer NOT NULL,
	"balance" bigint DEFAULT 0 NOT NULL,
	"consumed" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "credit_pool_stripes_provider_stripe_pk" PRIMARY KEY("provider","stripe"),
	CONSTRAINT "credit_pool_stripes_balance_check" CHECK ("credit_pool_stripes"."balance" >= 0)
);
--> statement-breakpoint
CREATE TABLE "credit_pool_transactions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"provider" text NOT NULL,
	"transaction_type" text NOT NULL,
	"credits_delta" bigint NOT NULL,
	"stripe" integer,
	"stripe_balance_after" bigint,
	"cost_usd" numeric(14, 6),
	"reservation_id" text,
	"purchase_request_id" bigint,
	"reason" text,
	"actor" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "credit_pool_transactions_type_check" CHECK ("credit_pool_transactions"."transaction_type" in ('purchase','consumption','refund','reallocation','adjustment'))
);
--> statement-breakpoint
CREATE TABLE "credit_pools" (
	"provider" text PRIMARY KEY NOT NULL,
	"total_purchased" bigint DEFAULT 0 NOT NULL,
	"cost_per_credit" numeric(12, 6) NOT NULL,
	"last_refill_at" timestamp with time zone,
	"last_refill_amount" integer,
	"auto_refill_threshold" integer DEFAULT 0 NOT NULL,
	"auto_refill_threshold_percent" integer,
	"auto_refill_amount" integer DEFAULT 0 NOT NULL,
	"refill_mode" text DEFAULT 'fixed' NOT NULL,
	"refill_target_balance" integer,
	"emergency_reserve" integer DEFAULT 0 NOT NULL,
	"billing_mode" text DEFAULT 'manual' NOT NULL,
	"billing_url" text,
	"billing_api_key_encrypted" text,
	"provider_reported_balance" bigint,
	"provider_balance_checked_at" timestamp with time zone,
	"refill_backoff_until" timestamp with time zone,
	"status" text DEFAULT 'active' NOT NULL,
	"stripe_count" integer DEFAULT 32 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "credit_pools_status_check" CHECK ("credit_pools"."status" in ('active','suspended','depleted')),
	CONSTRAINT "credit_pools_billing_check" CHECK ("credit_pools"."billing_mode" in ('manual','http')),
	CONSTRAINT "credit_pools_refill_mode_check" CHECK ("credit_pools"."refill_mode" in ('fixed','top_up')),
	CONSTRAINT "credit_pools_cost_check" CHECK ("credit_pools"."cost_per_credit" >= 0),
	CONSTRAINT "credit_pools_amounts_check" CHECK ("credit_pools"."auto_refill_threshold" >= 0 and "credit_pools"."auto_refill_amount" >= 0 and "credit_pools"."emergency_reserve" >= 0),
	CONSTRAINT "credit_pools_percent_check" CHECK ("credit_pools"."auto_refill_threshold_percent" is null or "credit_pools"."auto_refill_threshold_percent" between 1 and 100),
	CONSTRAINT "credit_pools_stripes_check" CHECK ("credit_pools"."stripe_count" between 1 and 256)
);
--> statement-breakpoint
CREATE TABLE "credit_purchase_requests" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"provider" text NOT NULL,
	"amount_requested" integer NOT NULL,
	"estimated_cost" numeric(14, 6) NOT NULL,
	"status" text NOT NULL,
	"trigger" text NOT NULL,
	"note" text,
	"requested_by" text NOT NULL,
	"requested_at" timestamp with time zone DEFAULT now() NOT NULL,
	"decided_by" text,
	"decided_at" timestamp with time zone,
	"decision_reason" text,
	"processing_started_at" timestamp with time zone,
	"completed_at" timestamp with time zone,
	"provider_transaction_id" text,
	"error_message" text,
	CONSTRAINT "credit_purchase_requests_status_check" CHECK ("credit_purchase_requests"."status" in ('pending_manual_approval','approved','rejected','completed','failed')),
	CONSTRAINT "credit_purchase_requests_amount_check" CHECK ("credit_purchase_requests"."amount_requested" > 0)
);
--> statement-breakpoint
CREATE TABLE "platform_settings" (
	"id" integer PRIMARY KEY DEFAULT 1 NOT NULL,
	"monthly_revenue_usd" numeric(14, 2) DEFAULT '0' NOT NULL,
	"credit_budget_share_percent" integer DEFAULT 80 NOT NULL,
	"refill_backoff_seconds" integer DEFAULT 3600 NOT NULL,
	"provider_drift_tolerance" integer DEFAULT 10 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "platform_settings_single_row" CHECK ("platform_settings"."id" = 1),
	CONSTRAINT "platform_settings_share_check" CHECK ("platform_settings"."credit_budget_share_percent" between 0 and 100)
);
--> statement-breakpoint
CREATE TABLE "system_alerts" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"type" text NOT NULL,
	"level" text NOT NULL,
	"subject" text DEFAULT '' NOT NULL,
	"message" text NOT NULL,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"status" text DEFAULT 'open' NOT NULL,
	"occurrences" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"acknowledged_at" timestamp with time zone,
	"acknowledged_by" text,
	"resolved_at" timestamp with time zone,
	"resolved_by" text,
	CONSTRAINT "system_alerts_level_check" CHECK ("system_alerts"."level" in ('info','warning','error','critical')),
	CONSTRAINT "system_alerts_status_check" CHECK ("system_alerts"."status" in ('open','acknowledged','resolved'))
);
--> statement-breakpoint
ALTER TABLE "credit_pool_stripes" ADD CONSTRAINT "credit_pool_stripes_provider_credit_pools_provider_fk" FOREIGN KEY ("provider") REFERENCES "public"."credit_pools"("provider") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "credit_pool_transactions" ADD CONSTRAINT "credit_pool_transactions_provider_credit_pools_provider_fk" FOREIGN KEY ("provider") REFERENCES "public"."credit_pools"("provider") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "credit_purchase_requests" ADD CONSTRAINT "credit_purchase_requests_provider_credit_pools_provider_fk" FOREIGN KEY ("provider") REFERENCES "public"."credit_pools"("provider") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "credit_pool_transactions_provider_idx" ON "credit_pool_transactions" USING btree ("provider","created_at");--> statement-breakpoint
CREATE INDEX "credit_pool_transactions_reservation_idx" ON "credit_pool_transactions" USING btree ("reservation_id");--> statement-breakpoint
CREATE UNIQUE INDEX "credit_purchase_requests_one_auto_uq" ON "credit_purchase_requests" USING btree ("provider") WHERE "credit_purchase_requests"."trigger" = 'auto' and "credit_purchase_requests"."status" in ('pending_manual_approval','approved');--> statement-breakpoint
CREATE INDEX "credit_purchase_requests_status_idx" ON "credit_purchase_requests" USING btree ("status","requested_at");--> statement-breakpoint
CREATE INDEX "system_alerts_open_idx" ON "system_alerts" USING btree ("type","subject") WHERE "system_alerts"."status" <> 'resolved';--> statement-breakpoint
CREATE INDEX "system_alerts_created_idx" ON "system_alerts" USING btree ("created_at" DESC NULLS LAST);