/** The API's answers as the dashboard reads them (the OpenAPI document at /api/v1/openapi.json is the reference). */

export interface Flock {
  flock_id: string;
  farm_id: string;
  barn_id: string;
  species: string;
  breed: string;
  sex: string | null;
  head_count_placed: number;
  placed_at: string;
  depopulated_at: string | null;
  age_days: number;
  head_count: number;
}

export interface Farm {
  farm_id: string;
  name: string;
  species: string;
  timezone: string;
  comfort_temp_min_c: number | null;
  comfort_temp_max_c: number | null;
  barn_count: number;
  created_at: string;
}

export interface Barn {
  farm_id: string;
  barn_id: string;
  name: string;
  species?: string | null;
  current_flock: Flock | null;
  device_count: number;
}

export type EdgeStatus = 'ok' | 'late' | 'silent' | 'never' | 'revoked';
export type ClimateStatus = 'ok' | 'low' | 'high' | 'stale' | 'unknown';

export interface Band {
  min: number | null;
  max: number | null;
}

export interface ClimateNow {
  metric: string;
  value: number;
  unit: string;
  at: string;
  band: Band | null;
  status: ClimateStatus;
}

export interface BarnOverview {
  barn_id: string;
  name: string;
  flock: Flock | null;
  climate: ClimateNow[];
  mortality_today: { dead: number; culled: number } | null;
  latest_weight: { kg: number; at: string; session_id: string; source: string } | null;
  open_alerts: number;
}

export interface FarmOverview {
  farm: { farm_id: string; name: string; timezone: string };
  barns: BarnOverview[];
  edges: { edge_id: string; last_batch_at: string | null; status: EdgeStatus }[];
}

export interface ClimateSeries {
  metric: string;
  unit: string | null;
  resolution: '1m' | '1h';
  from: string;
  to: string;
  points: { t: string; mean: number; min: number; max: number; count: number }[];
  band: Band | null;
}

export interface Growth {
  flock: Flock | null;
  standard_key?: string | null;
  days: { day: string; age_days: number | null; mean_kg: number; session_count: number; standard_kg: number | null }[];
  forecast: { day: string; age_days: number; kg: number; low_kg: number; high_kg: number }[];
  forecast_status?: string;
  forecast_reason?: string | null;
  uniformity: {
    day: string;
    status?: string;
    n?: number;
    cv_pct: number | null;
    within_10pct_pct: number | null;
    bins: { from_kg: number; to_kg: number; count: number }[];
  } | null;
}

export interface Weighing {
  session_id: string;
  station_id: string;
  status: string;
  at?: string;
  started_at: string | null;
  finalized_at: string | null;
  weight_kg: number | null;
  weight_source: string | null;
  scale_median_kg: number | null;
  vision_weight_kg: number | null;
  vision_confidence: number | null;
  quality_flags: string[];
  reading_count: number;
  stable_reading_count: number | null;
  image_count: number | null;
}

export interface Feed {
  days: { day: string; kg: number; kg_per_head: number | null }[];
  fcr: number | null;
  fcr_basis: { missing_reason?: string | null; as_of_day?: string | null } | null;
}

export interface Mortality {
  days: { day: string; dead: number; culled: number; cumulative_pct: number }[];
  head_count: number | null;
  livability_pct: number | null;
}

export interface InsightListItem {
  id: string;
  farm_id: string;
  barn_id: string | null;
  window: { from: string; to: string };
  request_id: string;
  generator: string;
  title: string;
  created_at: string;
}

export interface Insight {
  id: string;
  farm_id: string;
  barn_id: string | null;
  window: { from: string; to: string };
  request_id: string;
  workflow_id: string | null;
  generator: string;
  model: string | null;
  insight: {
    title: string;
    summary: string;
    findings: { severity: 'info' | 'warning' | 'critical'; topic: string; barn_id: string | null; text: string }[];
    recommendations: { priority: 'low' | 'medium' | 'high'; text: string }[];
    key_metrics: { label: string; value: number; unit: string; barn_id: string | null }[];
  };
  created_at: string;
}

export interface Notification {
  id: string;
  channel: string;
  title: string;
  body: string;
  data: Record<string, unknown>;
  status: string;
  created_at: string;
  read_at: string | null;
}

export interface InboxPage {
  items: Notification[];
  next_cursor: string | null;
  unread_count: number;
}

export interface Device {
  farm_id: string;
  barn_id: string;
  device_id: string;
  kind: string;
  created_at: string;
}

export interface Edge {
  edge_id: string;
  name: string | null;
  key_id: string;
  created_at: string;
  revoked_at: string | null;
  last_batch_at: string | null;
  status: EdgeStatus;
}

export interface User {
  id: string;
  email: string;
  display_name: string | null;
  role: 'viewer' | 'operator' | 'admin';
  created_at: string;
  disabled_at: string | null;
}

export interface Items<T> {
  items: T[];
  next_cursor?: string | null;
}
