CREATE TABLE "daily_usage_breakdown" (
	"day" date NOT NULL,
	"dimension" text NOT NULL,
	"value" text NOT NULL,
	"requests" integer NOT NULL,
	"successful_requests" integer NOT NULL,
	"failed_requests" integer NOT NULL,
	"credits" integer NOT NULL,
	"cost_usd" numeric(14, 6) NOT NULL,
	CONSTRAINT "daily_usage_breakdown_dimension_day_value_pk" PRIMARY KEY("dimension","day","value")
);
--> statement-breakpoint
CREATE TABLE "daily_usage_summary" (
	"day" date PRIMARY KEY NOT NULL,
	"total_requests" integer NOT NULL,
	"successful_requests" integer NOT NULL,
	"failed_requests" integer NOT NULL,
	"credits_consumed" integer NOT NULL,
	"allowance_credits" integer NOT NULL,
	"platform_credits" integer NOT NULL,
	"cost_usd" numeric(14, 6) NOT NULL,
	"free_tier_usage" integer NOT NULL,
	"plus_tier_usage" integer NOT NULL,
	"pro_tier_usage" integer NOT NULL,
	"active_users" integer NOT NULL,
	"generated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "daily_user_usage" (
	"day" date NOT NULL,
	"user_id" text NOT NULL,
	"requests" integer NOT NULL,
	"credits" integer NOT NULL,
	"cost_usd" numeric(14, 6) NOT NULL,
	CONSTRAINT "daily_user_usage_day_user_id_pk" PRIMARY KEY("day","user_id")
);
--> statement-breakpoint
ALTER TABLE "credit_reservations" ADD COLUMN "tier" text;--> statement-breakpoint
ALTER TABLE "credit_transactions" ADD COLUMN "tier" text;--> statement-breakpoint
ALTER TABLE "platform_settings" ADD COLUMN "upgrade_min_enhancements" integer DEFAULT 20 NOT NULL;--> statement-breakpoint
ALTER TABLE "platform_settings" ADD COLUMN "upgrade_window_days" integer DEFAULT 30 NOT NULL;--> statement-breakpoint
ALTER TABLE "platform_settings" ADD COLUMN "upgrade_active_days" integer DEFAULT 7 NOT NULL;--> statement-breakpoint
ALTER TABLE "platform_settings" ADD COLUMN "upgrade_cooldown_days" integer DEFAULT 30 NOT NULL;--> statement-breakpoint
ALTER TABLE "platform_settings" ADD COLUMN "reallocation_idle_days" integer DEFAULT 14 NOT NULL;--> statement-breakpoint
ALTER TABLE "platform_settings" ADD COLUMN "reallocation_pool" text;