CREATE TABLE "api_providers" (
	"name" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"base_url" text NOT NULL,
	"api_key_encrypted" text,
	"model" text,
	"cost_per_request" numeric(12, 6) DEFAULT '0' NOT NULL,
	"rate_limit_per_minute" integer DEFAULT 60 NOT NULL,
	"priority" integer DEFAULT 100 NOT NULL,
	"timeout_ms" integer DEFAULT 30000 NOT NULL,
	"is_active" boolean DEFAULT true NOT NULL,
	"health_check_url" text,
	"last_health_check" timestamp with time zone,
	"last_health_ok" boolean,
	"last_health_detail" text,
	"success_rate_24h" numeric(5, 4),
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "api_providers_kind_check" CHECK ("api_providers"."kind" in ('nanobanana','fal','kie','google','local')),
	CONSTRAINT "api_providers_rate_check" CHECK ("api_providers"."rate_limit_per_minute" > 0),
	CONSTRAINT "api_providers_timeout_check" CHECK ("api_providers"."timeout_ms" between 100 and 600000)
);
--> statement-breakpoint
CREATE TABLE "enhancement_requests" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"idempotency_key" text NOT NULL,
	"request_hash" text NOT NULL,
	"user_id" text NOT NULL,
	"status" text DEFAULT 'processing' NOT NULL,
	"reservation_id" text,
	"result" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp with time zone,
	CONSTRAINT "enhancement_requests_status_check" CHECK ("enhancement_requests"."status" in ('processing','enhanced','degraded'))
);
--> statement-breakpoint
CREATE TABLE "provider_calls" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"provider" text NOT NULL,
	"request_id" text NOT NULL,
	"reservation_id" text,
	"outcome" text NOT NULL,
	"latency_ms" integer,
	"http_status" integer,
	"error_kind" text,
	"error" text,
	"provider_request_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "provider_calls_outcome_check" CHECK ("provider_calls"."outcome" in ('success','failure','skipped'))
);
--> statement-breakpoint
CREATE TABLE "user_notifications" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"type" text NOT NULL,
	"title" text NOT NULL,
	"message" text NOT NULL,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"read_at" timestamp with time zone
);
--> statement-breakpoint
CREATE INDEX "api_providers_order_idx" ON "api_providers" USING btree ("priority","cost_per_request");--> statement-breakpoint
CREATE UNIQUE INDEX "enhancement_requests_key_uq" ON "enhancement_requests" USING btree ("idempotency_key");--> statement-breakpoint
CREATE INDEX "enhancement_requests_user_idx" ON "enhancement_requests" USING btree ("user_id","created_at");--> statement-breakpoint
CREATE INDEX "provider_calls_provider_idx" ON "provider_calls" USING btree ("provider","created_at");--> statement-breakpoint
CREATE INDEX "provider_calls_request_idx" ON "provider_calls" USING btree ("request_id");--> statement-breakpoint
CREATE INDEX "user_notifications_user_idx" ON "user_notifications" USING btree ("user_id","created_at");