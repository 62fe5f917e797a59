ALTER TABLE "credit_purchase_requests" DROP CONSTRAINT "credit_purchase_requests_status_check";--> statement-breakpoint
DROP INDEX "credit_purchase_requests_one_auto_uq";--> statement-breakpoint
ALTER TABLE "credit_pools" ADD COLUMN "refill_failures" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "credit_pools" ADD COLUMN "last_refill_error" text;--> statement-breakpoint
ALTER TABLE "credit_pools" ADD COLUMN "auto_refill_stopped_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "credit_purchase_requests" ADD COLUMN "attempts" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "credit_purchase_requests_one_open_auto_uq" ON "credit_purchase_requests" USING btree ("provider") WHERE "credit_purchase_requests"."trigger" = 'auto' and "credit_purchase_requests"."status" in ('pending_manual_approval','approved','outcome_unknown');--> statement-breakpoint
ALTER TABLE "credit_purchase_requests" ADD CONSTRAINT "credit_purchase_requests_status_check" CHECK ("credit_purchase_requests"."status" in ('pending_manual_approval','approved','outcome_unknown','rejected','completed','failed'));