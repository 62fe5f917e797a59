CREATE TABLE "stripe_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"event_id" text,
	"type" text,
	"event_created_at" timestamp with time zone,
	"outcome" text NOT NULL,
	"reason" text,
	"error" text,
	"user_id" text,
	"object_id" text,
	"credits_delta" integer,
	"credits_lost" integer,
	"attempts" integer DEFAULT 1 NOT NULL,
	"payload" jsonb,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "stripe_events_outcome_check" CHECK ("stripe_events"."outcome" in ('processed', 'ignored', 'failed', 'refused')),
	CONSTRAINT "stripe_events_refused_check" CHECK (("stripe_events"."outcome" = 'refused') = ("stripe_events"."event_id" is null))
);
--> statement-breakpoint
CREATE TABLE "stripe_pack_grants" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"checkout_session_id" text NOT NULL,
	"payment_intent_id" text,
	"event_id" text NOT NULL,
	"user_id" text NOT NULL,
	"price_id" text NOT NULL,
	"credits" integer NOT NULL,
	"transaction_id" bigint,
	"credit_grant_id" bigint,
	"amount_paid" bigint,
	"currency" text,
	"amount_refunded" bigint DEFAULT 0 NOT NULL,
	"credits_clawed_back" integer DEFAULT 0 NOT NULL,
	"credits_lost" integer DEFAULT 0 NOT NULL,
	"status" text DEFAULT 'granted' NOT NULL,
	"disputed_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "stripe_pack_grants_status_check" CHECK ("stripe_pack_grants"."status" in ('granted', 'refunded', 'frozen')),
	CONSTRAINT "stripe_pack_grants_taken_check" CHECK ("stripe_pack_grants"."credits_clawed_back" >= 0 and "stripe_pack_grants"."credits_lost" >= 0 and "stripe_pack_grants"."credits_clawed_back" + "stripe_pack_grants"."credits_lost" <= "stripe_pack_grants"."credits")
);
--> statement-breakpoint
CREATE TABLE "stripe_prices" (
	"price_id" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"tier" text,
	"credits" integer,
	"expires_in_days" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "stripe_prices_kind_check" CHECK (("stripe_prices"."kind" = 'tier' and "stripe_prices"."tier" in ('free', 'plus', 'pro') and "stripe_prices"."credits" is null and "stripe_prices"."expires_in_days" is null)
          or ("stripe_prices"."kind" = 'pack' and "stripe_prices"."tier" is null and "stripe_prices"."credits" > 0 and ("stripe_prices"."expires_in_days" is null or "stripe_prices"."expires_in_days" > 0)))
);
--> statement-breakpoint
CREATE TABLE "stripe_subscriptions" (
	"subscription_id" text PRIMARY KEY NOT NULL,
	"customer_id" text NOT NULL,
	"user_id" text NOT NULL,
	"price_id" text,
	"status" text NOT NULL,
	"tier" text NOT NULL,
	"event_id" text NOT NULL,
	"event_created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "stripe_customer_id" text;--> statement-breakpoint
CREATE UNIQUE INDEX "stripe_events_event_id_uq" ON "stripe_events" USING btree ("event_id");--> statement-breakpoint
CREATE UNIQUE INDEX "stripe_pack_grants_session_uq" ON "stripe_pack_grants" USING btree ("checkout_session_id");--> statement-breakpoint
CREATE UNIQUE INDEX "stripe_pack_grants_payment_intent_uq" ON "stripe_pack_grants" USING btree ("payment_intent_id");--> statement-breakpoint
CREATE UNIQUE INDEX "users_stripe_customer_uq" ON "users" USING btree ("stripe_customer_id");