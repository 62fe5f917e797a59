-- Every channel exists (disabled until configured; in-app always on) and the seed's three rules.
INSERT INTO "alert_channels" ("channel", "enabled", "cooldown_seconds") VALUES
  ('slack', false, 900),
  ('email', false, 900),
  ('sms', false, 900),
  ('in_app', true, 0)
ON CONFLICT ("channel") DO NOTHING;
--> statement-breakpoint
INSERT INTO "credit_alerts" ("alert_type", "threshold_value", "notification_channels") VALUES
  ('pool_low', NULL, '{}'),
  ('pool_usage_high', 90, '{}'),
  ('users_out_of_credits', 10, '{}');
