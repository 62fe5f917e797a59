-- The default tiers: free has no allowance and no pool access; plus and pro overflow to the platform pool.
INSERT INTO "tier_allowances" ("tier", "monthly_credits", "pool_access") VALUES
  ('free', 0, false),
  ('plus', 10, true),
  ('pro', 25, true)
ON CONFLICT ("tier") DO NOTHING;
