CREATE TABLE "bulk_grants" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"idempotency_key" text NOT NULL,
	"request_hash" text NOT NULL,
	"filter" jsonb NOT NULL,
	"credits" integer NOT NULL,
	"reason" text NOT NULL,
	"users_granted" integer NOT NULL,
	"total_credits" bigint NOT NULL,
	"actor" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "bulk_grants_credits_check" CHECK ("bulk_grants"."credits" > 0)
);
--> statement-breakpoint
ALTER TABLE "credit_pools" ADD COLUMN "archived_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "api_providers" ADD COLUMN "last_health_error" text;--> statement-breakpoint
ALTER TABLE "api_providers" ADD COLUMN "last_health_error_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "api_providers" ADD COLUMN "archived_at" timestamp with time zone;--> statement-breakpoint
CREATE UNIQUE INDEX "bulk_grants_idempotency_uq" ON "bulk_grants" USING btree ("idempotency_key");--> statement-breakpoint
-- The failures already on record become the last health-check error, so the column starts true.
UPDATE "api_providers" SET "last_health_error" = "last_health_detail", "last_health_error_at" = "last_health_check" WHERE "last_health_ok" = false;
