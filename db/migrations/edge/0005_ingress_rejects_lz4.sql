-- Up Migration
-- Quarantined payloads (up to 64 KiB each) are compressed with lz4 instead of pglz. A hostile device
-- sends the largest, most compressible bodies it can (deep JSON, padding), and the reject rows are
-- written in the same transaction as the valid readings of their micro-batch: pglz there raised the
-- valid readings' p99 publish→commit latency under `npm run bench -- hostile` (docs/benchmarks.md).
ALTER TABLE ingress_rejects ALTER COLUMN payload SET COMPRESSION lz4;

-- Down Migration
ALTER TABLE ingress_rejects ALTER COLUMN payload SET COMPRESSION pglz;
