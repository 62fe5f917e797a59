CREATE INDEX "audit_log_actor_idx" ON "audit_log" USING btree ("actor_label" text_pattern_ops,"id");--> statement-breakpoint
CREATE INDEX "audit_log_action_idx" ON "audit_log" USING btree ("action" text_pattern_ops,"id");--> statement-breakpoint
CREATE INDEX "credit_transactions_type_idx" ON "credit_transactions" USING btree ("transaction_type","id");--> statement-breakpoint
CREATE INDEX "credit_transactions_provider_idx" ON "credit_transactions" USING btree ("provider","id") WHERE "credit_transactions"."provider" is not null;