CREATE TABLE "alert_silences" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"alert_type" text NOT NULL,
	"subject" text,
	"reason" text NOT NULL,
	"starts_at" timestamp with time zone DEFAULT now() NOT NULL,
	"ends_at" timestamp with time zone NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"ended_at" timestamp with time zone,
	"ended_by" text,
	CONSTRAINT "alert_silences_window_check" CHECK ("alert_silences"."ends_at" > "alert_silences"."starts_at")
);
--> statement-breakpoint
ALTER TABLE "alert_deliveries" ADD COLUMN "kind" text DEFAULT 'firing' NOT NULL;--> statement-breakpoint
ALTER TABLE "credit_alerts" ADD COLUMN "repeat_interval_seconds" integer DEFAULT 14400 NOT NULL;--> statement-breakpoint
ALTER TABLE "system_alerts" ADD COLUMN "last_notified_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "system_alerts" ADD COLUMN "silence_id" bigint;--> statement-breakpoint
ALTER TABLE "user_notifications" ADD COLUMN "action" jsonb;--> statement-breakpoint
CREATE INDEX "alert_silences_active_idx" ON "alert_silences" USING btree ("alert_type","ends_at") WHERE "alert_silences"."ended_at" is null;--> statement-breakpoint
ALTER TABLE "alert_deliveries" ADD CONSTRAINT "alert_deliveries_kind_check" CHECK ("alert_deliveries"."kind" in ('firing','reminder','resolved'));--> statement-breakpoint
ALTER TABLE "credit_alerts" ADD CONSTRAINT "credit_alerts_repeat_interval_check" CHECK ("credit_alerts"."repeat_interval_seconds" >= 60);--> statement-breakpoint
-- Alerts already routed before reminders existed count as notified then, so they are not all re-sent at once.
UPDATE "system_alerts" SET "last_notified_at" = "last_seen_at" WHERE "needs_routing" = false AND "status" <> 'resolved';
