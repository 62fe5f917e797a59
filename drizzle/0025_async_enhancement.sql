ALTER TABLE "enhancement_requests" DROP CONSTRAINT "enhancement_requests_status_check";--> statement-breakpoint
ALTER TABLE "enhancement_requests" ADD COLUMN "enhancement_id" uuid DEFAULT gen_random_uuid() NOT NULL;--> statement-breakpoint
ALTER TABLE "enhancement_requests" ADD COLUMN "mode" text DEFAULT 'sync' NOT NULL;--> statement-breakpoint
ALTER TABLE "enhancement_requests" ADD COLUMN "input" jsonb;--> statement-breakpoint
ALTER TABLE "enhancement_requests" ADD COLUMN "api_key_id" text;--> statement-breakpoint
ALTER TABLE "enhancement_requests" ADD COLUMN "callback_token_hash" text;--> statement-breakpoint
ALTER TABLE "enhancement_requests" ADD COLUMN "provider_task" jsonb;--> statement-breakpoint
ALTER TABLE "enhancement_requests" ADD COLUMN "failures" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "enhancement_requests" ADD COLUMN "lease_until" timestamp with time zone;--> statement-breakpoint
CREATE UNIQUE INDEX "enhancement_requests_public_id_uq" ON "enhancement_requests" USING btree ("enhancement_id");--> statement-breakpoint
CREATE INDEX "enhancement_requests_async_open_idx" ON "enhancement_requests" USING btree ("lease_until") WHERE "enhancement_requests"."status" in ('queued','running');--> statement-breakpoint
ALTER TABLE "enhancement_requests" ADD CONSTRAINT "enhancement_requests_mode_check" CHECK ("enhancement_requests"."mode" in ('sync','async'));--> statement-breakpoint
ALTER TABLE "enhancement_requests" ADD CONSTRAINT "enhancement_requests_status_check" CHECK ("enhancement_requests"."status" in ('processing','queued','running','enhanced','degraded','failed'));
