/** A farm server's sync health (GET /edges/:edgeId/health, operator+): never asked for a viewer. */
import { useQuery } from '@tanstack/react-query';
import { hasRole, api, type Role } from './client';
import { pollEvery } from './queries';
import type { EdgeStatus } from './types';

export interface EdgeHealth {
  edge_id: string;
  last_batch_at: string | null;
  events_per_minute: number;
  batches_last_hour: number;
  last_error: { at: string; code: string; message: string } | null;
  status?: EdgeStatus;
  /** What the farm server last said it still has to send; null/absent: it has not reported. */
  backlog?: { pending_events: number; oldest_pending_at: string | null; reported_at: string } | null;
}

export function useEdgeHealth(edgeId: string, role: Role) {
  return useQuery({
    queryKey: ['edge-health', edgeId],
    queryFn: () => api<EdgeHealth>(`/edges/${encodeURIComponent(edgeId)}/health`),
    enabled: hasRole(role, 'operator'),
    refetchInterval: pollEvery,
    refetchIntervalInBackground: false,
  });
}
