CREATE TABLE "alert_channels" (
	"channel" text PRIMARY KEY NOT NULL,
	"enabled" boolean DEFAULT false NOT NULL,
	"config" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"secret_encrypted" text,
	"cooldown_seconds" integer DEFAULT 900 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "alert_channels_channel_check" CHECK ("alert_channels"."channel" in ('slack','email','sms','in_app')),
	CONSTRAINT "alert_channels_cooldown_check" CHECK ("alert_channels"."cooldown_seconds" >= 0)
);
--> statement-breakpoint
CREATE TABLE "alert_cooldowns" (
	"alert_type" text NOT NULL,
	"subject" text NOT NULL,
	"channel" text NOT NULL,
	"last_sent_at" timestamp with time zone NOT NULL,
	CONSTRAINT "alert_cooldowns_alert_type_subject_channel_pk" PRIMARY KEY("alert_type","subject","channel")
);
--> statement-breakpoint
CREATE TABLE "alert_deliveries" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"alert_id" bigint NOT NULL,
	"channel" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_error" text,
	"payload" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"sent_at" timestamp with time zone,
	CONSTRAINT "alert_deliveries_status_check" CHECK ("alert_deliveries"."status" in ('pending','sent','failed'))
);
--> statement-breakpoint
CREATE TABLE "credit_alerts" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"alert_type" text NOT NULL,
	"threshold_value" numeric(14, 4),
	"notification_channels" text[] DEFAULT '{}'::text[] NOT NULL,
	"is_active" boolean DEFAULT true NOT NULL,
	"last_triggered_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "job_runs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"job_name" text NOT NULL,
	"job_id" text,
	"attempt" integer DEFAULT 1 NOT NULL,
	"trigger" text NOT NULL,
	"mode" text NOT NULL,
	"status" text DEFAULT 'running' NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	"duration_ms" integer,
	"error" text,
	"result" jsonb,
	"worker" text,
	CONSTRAINT "job_runs_status_check" CHECK ("job_runs"."status" in ('running','succeeded','failed')),
	CONSTRAINT "job_runs_trigger_check" CHECK ("job_runs"."trigger" in ('schedule','manual','retry','demand'))
);
--> statement-breakpoint
DROP INDEX "system_alerts_open_idx";--> statement-breakpoint
ALTER TABLE "system_alerts" ADD COLUMN "needs_routing" boolean DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE "alert_deliveries" ADD CONSTRAINT "alert_deliveries_alert_id_system_alerts_id_fk" FOREIGN KEY ("alert_id") REFERENCES "public"."system_alerts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "alert_deliveries_due_idx" ON "alert_deliveries" USING btree ("next_attempt_at") WHERE "alert_deliveries"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "alert_deliveries_alert_idx" ON "alert_deliveries" USING btree ("alert_id");--> statement-breakpoint
CREATE INDEX "credit_alerts_type_idx" ON "credit_alerts" USING btree ("alert_type");--> statement-breakpoint
CREATE INDEX "job_runs_name_idx" ON "job_runs" USING btree ("job_name","started_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "job_runs_job_idx" ON "job_runs" USING btree ("job_id");--> statement-breakpoint
CREATE UNIQUE INDEX "system_alerts_open_uq" ON "system_alerts" USING btree ("type","subject") WHERE "system_alerts"."status" <> 'resolved';--> statement-breakpoint
CREATE INDEX "system_alerts_routing_idx" ON "system_alerts" USING btree ("id") WHERE "system_alerts"."needs_routing";