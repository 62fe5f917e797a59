ALTER TABLE "platform_settings" ADD COLUMN "users_out_of_credits_threshold" integer DEFAULT 10 NOT NULL;--> statement-breakpoint
ALTER TABLE "platform_settings" ADD CONSTRAINT "platform_settings_users_out_check" CHECK ("platform_settings"."users_out_of_credits_threshold" >= 1);--> statement-breakpoint
-- One home for the threshold: carry over what the first users_out_of_credits rule set ("more than
-- 10.5" is "more than 10"), then clear the rules' copies so nothing else holds the value.
UPDATE "platform_settings" SET "users_out_of_credits_threshold" = greatest(1, floor(r."threshold_value"))::int
  FROM (SELECT "threshold_value" FROM "credit_alerts" WHERE "alert_type" = 'users_out_of_credits' AND "threshold_value" IS NOT NULL ORDER BY "id" LIMIT 1) r;--> statement-breakpoint
UPDATE "credit_alerts" SET "threshold_value" = NULL WHERE "alert_type" = 'users_out_of_credits';
