CREATE TABLE "usage_rollup" (
	"bucket_start" timestamp with time zone NOT NULL,
	"dimension" text NOT NULL,
	"value" text NOT NULL,
	"ok" boolean NOT NULL,
	"requests" integer NOT NULL,
	"credits" integer NOT NULL,
	"cost_usd" numeric(14, 6) NOT NULL,
	CONSTRAINT "usage_rollup_bucket_start_dimension_value_ok_pk" PRIMARY KEY("bucket_start","dimension","value","ok")
);
--> statement-breakpoint
CREATE TABLE "usage_rollup_buckets" (
	"bucket_start" timestamp with time zone PRIMARY KEY NOT NULL,
	"rolled_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "usage_rollup" ADD CONSTRAINT "usage_rollup_bucket_start_usage_rollup_buckets_bucket_start_fk" FOREIGN KEY ("bucket_start") REFERENCES "public"."usage_rollup_buckets"("bucket_start") ON DELETE cascade ON UPDATE no action;