/**
 * The farm's alarms (GET /alarms, GET /alarms/:id, POST /alarms/:id/acknowledge) and a farm
 * server's downlink commands (GET /edges/:edgeId/commands). Alarms are polled every 30 s while the
 * page is visible: an alarm is more urgent than the overview's minute.
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, hasRole, type Role } from './client';
import { pollEvery } from './queries';

export type AlarmSeverity = 'info' | 'warning' | 'critical';
export type AlarmState = 'raised' | 'acknowledged' | 'cleared';
export type CommandStatus = 'pending' | 'delivered' | 'applied' | 'refused';

export interface Alarm {
  alarm_id: string;
  edge_id: string | null;
  farm_id: string;
  barn_id: string | null;
  rule_id: string;
  /** null until the farm server's raise itself reached the cloud (an escalation came first). */
  rule_kind: string | null;
  severity: AlarmSeverity;
  state: AlarmState;
  summary: string;
  value: number | null;
  threshold: number | null;
  unit: string | null;
  condition_since: string | null;
  raised_at: string | null;
  acknowledged_at: string | null;
  acknowledged_by: string | null;
  cleared_at: string | null;
  last_step: number | null;
  /** The acknowledgement sent from the dashboard, until the farm server's own acknowledgement arrives. */
  pending_acknowledgement: { command_id: string; status: CommandStatus; created_at: string } | null;
}

export interface AlarmHistoryEntry {
  at: string;
  what: string;
  detail: unknown;
  event_id: string | null;
}

export interface AlarmDetail {
  alarm: Alarm;
  history: AlarmHistoryEntry[];
}

export interface EdgeCommand {
  command_id: string;
  seq: number;
  type: string;
  status: CommandStatus;
  created_at: string;
  created_by: string | null;
  delivered_at: string | null;
  applied_at: string | null;
  result: string | null;
  payload: unknown;
}

/** Every 30 s while the page is visible; a hidden page makes no requests (React Query's focusManager). */
export const alarmPollEvery = 30_000;

const polled = {
  refetchInterval: alarmPollEvery,
  refetchIntervalInBackground: false,
  refetchOnWindowFocus: true,
  staleTime: 15_000,
} as const;

export type AlarmFilter = 'open' | 'all';

export function useAlarms(farmId: string | undefined, state: AlarmFilter = 'open') {
  return useQuery({
    queryKey: ['alarms', farmId, state],
    queryFn: () => api<{ items: Alarm[] }>('/alarms', { query: { farm_id: farmId, state } }),
    enabled: !!farmId,
    ...polled,
  });
}

export function useAlarm(alarmId: string) {
  return useQuery({
    queryKey: ['alarm', alarmId],
    queryFn: () => api<AlarmDetail>(`/alarms/${encodeURIComponent(alarmId)}`),
    ...polled,
  });
}

/** Sends the acknowledgement down to the farm server (202: a command is queued, the alarm is acknowledged when the farm server says so). */
export function useAcknowledge() {
  const queries = useQueryClient();
  return useMutation({
    mutationFn: (v: { alarmId: string; note?: string }) =>
      api<{ command_id: string; seq: number; status: CommandStatus }>(`/alarms/${encodeURIComponent(v.alarmId)}/acknowledge`, {
        method: 'POST',
        body: v.note ? { note: v.note } : {},
      }),
    onSettled: async (_r, _e, v) => {
      await Promise.all([queries.invalidateQueries({ queryKey: ['alarms'] }), queries.invalidateQueries({ queryKey: ['alarm', v.alarmId] })]);
    },
  });
}

/** Open: raised or acknowledged, not yet cleared. */
export const isOpen = (a: Alarm): boolean => a.state !== 'cleared';

const severityRank: Record<AlarmSeverity, number> = { critical: 0, warning: 1, info: 2 };

/** Open alarms first, the most severe first, then the newest. */
export function alarmOrder(a: Alarm, b: Alarm): number {
  return (
    Number(!isOpen(a)) - Number(!isOpen(b)) ||
    Number(a.state === 'acknowledged') - Number(b.state === 'acknowledged') ||
    severityRank[a.severity] - severityRank[b.severity] ||
    Date.parse(b.raised_at ?? '') - Date.parse(a.raised_at ?? '') ||
    0
  );
}

/** A farm server's commands (operator+, like its health): never asked for a viewer. */
export function useEdgeCommands(edgeId: string, role: Role) {
  return useQuery({
    queryKey: ['edge-commands', edgeId],
    queryFn: () => api<{ items: EdgeCommand[] }>(`/edges/${encodeURIComponent(edgeId)}/commands`),
    enabled: hasRole(role, 'operator'),
    refetchInterval: pollEvery,
    refetchIntervalInBackground: false,
  });
}
