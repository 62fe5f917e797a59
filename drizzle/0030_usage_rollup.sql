CREATE TABLE "usage_rollup" (
	"bucket_start" timestamp with time zone NOT NULL,
	"entry" text NOT NULL,
	"source" text,
	"tier" text,
	"provider" text,
	"enhancement_type" text,
	"requests" integer NOT NULL,
	"credits" integer NOT NULL,
	"cost_usd" numeric(14, 6) NOT NULL
);
--> statement-breakpoint
CREATE TABLE "usage_rollup_buckets" (
	"bucket_start" timestamp with time zone PRIMARY KEY NOT NULL,
	"rolled_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "usage_rollup" ADD CONSTRAINT "usage_rollup_bucket_start_usage_rollup_buckets_bucket_start_fk" FOREIGN KEY ("bucket_start") REFERENCES "public"."usage_rollup_buckets"("bucket_start") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "usage_rollup_bucket_idx" ON "usage_rollup" USING btree ("bucket_start");