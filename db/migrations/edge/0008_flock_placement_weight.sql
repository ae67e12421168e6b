-- Up Migration
-- The mean body weight of a flock at placement (docs/flocks.md), when the operator weighed it.
-- Nullable: flocks placed before it existed, and placements nobody weighed, keep NULL and their
-- KPIs fall back to the breed standard's weight at the age of placement. Written only by
-- flocks/flock-store.ts. The species bounds are the contract's (domain/contracts/flock-payloads.ts);
-- the table keeps the absolute ones.

ALTER TABLE flocks
  ADD COLUMN placement_weight_kg numeric(8,3) CHECK (placement_weight_kg > 0 AND placement_weight_kg <= 400);

-- Down Migration
ALTER TABLE flocks DROP COLUMN placement_weight_kg;
