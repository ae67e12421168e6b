-- Up Migration
-- Why the template writer produced an insight although an LLM was configured (issue 5, DESIGN §4
-- LLM guardrail): an LLM answer that was invalid JSON, broke the insight schema, quoted numbers
-- that are not in the feature summary, timed out or failed. insights.generator says which
-- generator wrote the insight; this row says why it was not the LLM. One row at most per insight,
-- written in the same transaction as the insight.
--
-- A table of its own rather than a column on insights: the rows are few (only fallbacks), and
-- down-then-up of this migration leaves the insights table's catalog exactly as it was.
CREATE TABLE insight_llm_fallbacks (
  tenant_id  uuid        NOT NULL,
  insight_id uuid        NOT NULL,
  reason     text        NOT NULL,  -- llm_timeout, llm_invalid_json, … (insights/insight-schema.ts FallbackReason)
  detail     text,                  -- the first 500 characters of the rejection, for an operator
  model      text,                  -- the LLM model whose answer was not used
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, insight_id),
  FOREIGN KEY (tenant_id, insight_id) REFERENCES insights (tenant_id, id) ON DELETE CASCADE
);

-- Tenant data: the same row-level security as every table of 0006.
GRANT SELECT, INSERT ON insight_llm_fallbacks TO farmiq_app;
ALTER TABLE insight_llm_fallbacks ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON insight_llm_fallbacks TO PUBLIC
  USING (tenant_id = nullif(current_setting('farmiq.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = nullif(current_setting('farmiq.tenant_id', true), '')::uuid);

-- Down Migration
DROP TABLE insight_llm_fallbacks;
