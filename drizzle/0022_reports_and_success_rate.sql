CREATE TABLE "report_runs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"period_start" date NOT NULL,
	"period_end" date NOT NULL,
	"status" text DEFAULT 'sending' NOT NULL,
	"attempts" integer DEFAULT 1 NOT NULL,
	"sent_channels" text[] DEFAULT '{}'::text[] NOT NULL,
	"content" jsonb,
	"last_error" text,
	"claimed_at" timestamp with time zone DEFAULT now() NOT NULL,
	"sent_at" timestamp with time zone,
	CONSTRAINT "report_runs_kind_check" CHECK ("report_runs"."kind" in ('daily','weekly')),
	CONSTRAINT "report_runs_status_check" CHECK ("report_runs"."status" in ('sending','sent','failed'))
);
--> statement-breakpoint
CREATE TABLE "report_settings" (
	"kind" text PRIMARY KEY NOT NULL,
	"enabled" boolean DEFAULT false NOT NULL,
	"slack" boolean DEFAULT false NOT NULL,
	"email_to" text[] DEFAULT '{}'::text[] NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "report_settings_kind_check" CHECK ("report_settings"."kind" in ('daily','weekly'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX "report_runs_period_uq" ON "report_runs" USING btree ("kind","period_start");--> statement-breakpoint
ALTER TABLE "api_providers" DROP COLUMN "success_rate_24h";