CREATE TABLE "webhook_attempts" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"delivery_id" bigint NOT NULL,
	"attempted_at" timestamp with time zone NOT NULL,
	"response_status" integer,
	"error" text,
	"duration_ms" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "webhook_deliveries" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"event_id" bigint NOT NULL,
	"endpoint_id" uuid NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"give_up_at" timestamp with time zone NOT NULL,
	"last_status" integer,
	"last_error" text,
	"last_attempt_at" timestamp with time zone,
	"delivered_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "webhook_deliveries_status_check" CHECK ("webhook_deliveries"."status" in ('pending','delivered','failed'))
);
--> statement-breakpoint
CREATE TABLE "webhook_endpoints" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"url" text NOT NULL,
	"events" text[] NOT NULL,
	"secret_encrypted" text NOT NULL,
	"status" text DEFAULT 'enabled' NOT NULL,
	"disabled_reason" text,
	"failing_since" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "webhook_endpoints_status_check" CHECK ("webhook_endpoints"."status" in ('enabled','disabled'))
);
--> statement-breakpoint
CREATE TABLE "webhook_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"msg_id" text NOT NULL,
	"type" text NOT NULL,
	"payload" jsonb NOT NULL,
	"dedupe_key" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"fanned_out_at" timestamp with time zone,
	CONSTRAINT "webhook_events_msg_id_unique" UNIQUE("msg_id"),
	CONSTRAINT "webhook_events_dedupe_key_unique" UNIQUE("dedupe_key")
);
--> statement-breakpoint
ALTER TABLE "webhook_attempts" ADD CONSTRAINT "webhook_attempts_delivery_id_webhook_deliveries_id_fk" FOREIGN KEY ("delivery_id") REFERENCES "public"."webhook_deliveries"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_event_id_webhook_events_id_fk" FOREIGN KEY ("event_id") REFERENCES "public"."webhook_events"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_endpoint_id_webhook_endpoints_id_fk" FOREIGN KEY ("endpoint_id") REFERENCES "public"."webhook_endpoints"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "webhook_attempts_delivery_idx" ON "webhook_attempts" USING btree ("delivery_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "webhook_deliveries_event_endpoint_uq" ON "webhook_deliveries" USING btree ("event_id","endpoint_id");--> statement-breakpoint
CREATE INDEX "webhook_deliveries_due_idx" ON "webhook_deliveries" USING btree ("next_attempt_at") WHERE "webhook_deliveries"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "webhook_deliveries_endpoint_idx" ON "webhook_deliveries" USING btree ("endpoint_id","id");--> statement-breakpoint
CREATE INDEX "webhook_events_pending_idx" ON "webhook_events" USING btree ("id") WHERE "webhook_events"."fanned_out_at" is null;--> statement-breakpoint
-- One home for an event's shape: the outbox row `{ type, timestamp, data }` under a fresh webhook-id.
-- A dedupe key already used makes it a no-op (null), so "once per user per month" cannot race.
-- An event no enabled endpoint listens to is not written at all: a monthly reset of a million users
-- must not write a million outbox rows that nobody will receive.
CREATE FUNCTION webhook_emit(event_type text, event_data jsonb, event_dedupe_key text DEFAULT NULL) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  new_msg_id text := 'msg_' || replace(gen_random_uuid()::text, '-', '');
BEGIN
  IF NOT EXISTS (SELECT 1 FROM webhook_endpoints WHERE status = 'enabled' AND event_type = ANY(events)) THEN
    RETURN NULL;
  END IF;
  INSERT INTO webhook_events (msg_id, type, payload, dedupe_key)
  VALUES (new_msg_id, event_type,
          jsonb_build_object('type', event_type,
                             'timestamp', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                             'data', event_data),
          event_dedupe_key)
  ON CONFLICT (dedupe_key) DO NOTHING;
  IF NOT FOUND THEN RETURN NULL; END IF;
  RETURN new_msg_id;
END $$;
--> statement-breakpoint
-- Balance events from the statement that moved the balance, whichever path it was (the one-statement
-- consume, the debit under lock, a reset, an adjustment). The trigger's WHEN clause sees only OLD and
-- NEW, so an update that crosses nothing costs no function call and no query.
CREATE FUNCTION user_credits_webhook_events() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  old_total bigint := OLD.current_balance::bigint + OLD.bonus_balance;
  new_total bigint := NEW.current_balance::bigint + NEW.bonus_balance;
BEGIN
  IF NEW.last_reset_at > OLD.last_reset_at THEN
    PERFORM webhook_emit('credits.reset', jsonb_build_object(
      'userId', NEW.user_id, 'tier', NEW.subscription_tier, 'balance', new_total,
      'monthlyAllowance', NEW.monthly_allowance, 'resetAt', to_char(NEW.last_reset_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')));
  END IF;
  IF new_total < old_total AND new_total * 5 < NEW.monthly_allowance AND old_total * 5 >= NEW.monthly_allowance THEN
    -- Keyed by the period (its reset time): once per user per month, again after the next reset.
    PERFORM webhook_emit('credits.low', jsonb_build_object(
      'userId', NEW.user_id, 'tier', NEW.subscription_tier, 'balance', new_total,
      'monthlyAllowance', NEW.monthly_allowance, 'thresholdPercent', 20),
      'credits.low:' || NEW.user_id || ':' || extract(epoch FROM NEW.last_reset_at)::text);
  END IF;
  IF new_total = 0 AND old_total > 0 THEN
    PERFORM webhook_emit('credits.depleted', jsonb_build_object(
      'userId', NEW.user_id, 'tier', NEW.subscription_tier, 'balance', 0, 'monthlyAllowance', NEW.monthly_allowance));
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER user_credits_webhook_events AFTER UPDATE ON user_credits FOR EACH ROW
WHEN (NEW.last_reset_at > OLD.last_reset_at
      OR (NEW.current_balance::bigint + NEW.bonus_balance < OLD.current_balance::bigint + OLD.bonus_balance
          AND ((NEW.current_balance::bigint + NEW.bonus_balance) * 5 < NEW.monthly_allowance OR NEW.current_balance::bigint + NEW.bonus_balance = 0)))
EXECUTE FUNCTION user_credits_webhook_events();
