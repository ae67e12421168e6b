-- Up Migration
-- The mean body weight of a flock at placement, from flock.placed's optional placement_weight_kg
-- (docs/flocks.md). Nullable: flocks placed before it existed, events of edges that do not send it,
-- and rows a depopulation created before their placement arrived keep NULL; the KPIs then use the
-- breed standard's weight at the age of placement. Written only by cloud/consumers/flock-service.ts.

ALTER TABLE flocks
  ADD COLUMN placement_weight_kg numeric(8,3) CHECK (placement_weight_kg > 0 AND placement_weight_kg <= 400);

-- Down Migration
ALTER TABLE flocks DROP COLUMN placement_weight_kg;
