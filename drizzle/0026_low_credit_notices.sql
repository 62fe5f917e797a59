ALTER TABLE "user_notifications" ADD COLUMN "dedupe_key" text;--> statement-breakpoint
CREATE UNIQUE INDEX "user_notifications_dedupe_uq" ON "user_notifications" USING btree ("dedupe_key");--> statement-breakpoint
-- The user's own low-credit notice (users.notifications), written by the statement that crossed
-- below 20% of the monthly allowance, whichever path moved the balance, once per user and month (the
-- key is the period's reset time, as for the credits.low webhook). Plus users are offered pro.
CREATE FUNCTION user_credits_low_notice() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  new_total bigint := NEW.current_balance::bigint + NEW.bonus_balance;
BEGIN
  INSERT INTO user_notifications (user_id, type, title, message, action, metadata, dedupe_key)
  VALUES (NEW.user_id, 'credits_low', 'Your credits are running low',
          new_total || ' of your ' || NEW.monthly_allowance || ' monthly credits are left; they renew at your next monthly reset.',
          CASE WHEN NEW.subscription_tier = 'plus'
               THEN jsonb_build_object('kind', 'upgrade', 'tier', 'pro', 'label', 'Upgrade to pro')
               ELSE jsonb_build_object('kind', 'wait', 'label', 'Credits renew at your next monthly reset') END,
          jsonb_build_object('balance', new_total, 'monthlyAllowance', NEW.monthly_allowance, 'tier', NEW.subscription_tier, 'thresholdPercent', 20),
          'credits_low:' || NEW.user_id || ':' || extract(epoch FROM NEW.last_reset_at)::text)
  ON CONFLICT (dedupe_key) DO NOTHING;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER user_credits_low_notice AFTER UPDATE ON user_credits FOR EACH ROW
WHEN ((NEW.current_balance::bigint + NEW.bonus_balance) * 5 < NEW.monthly_allowance
      AND (OLD.current_balance::bigint + OLD.bonus_balance) * 5 >= NEW.monthly_allowance)
EXECUTE FUNCTION user_credits_low_notice();
