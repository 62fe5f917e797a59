DROP INDEX "credit_transactions_user_idx";--> statement-breakpoint
CREATE INDEX "credit_transactions_user_idx" ON "credit_transactions" USING btree ("user_id","id");