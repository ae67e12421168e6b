/** The shared queries (React Query): one place for their keys and polling. */
import { useQuery } from '@tanstack/react-query';
import { api } from './client';
import type { Barn, Farm, FarmOverview, InboxPage, Items } from './types';

/** Every 60 s while the page is visible; a hidden page makes no requests (spec §6.2). */
export const pollEvery = 60_000;

export function useFarms() {
  return useQuery({ queryKey: ['farms'], queryFn: () => api<Items<Farm>>('/farms') });
}

export function useFarm(farmId: string | undefined) {
  return useQuery({
    queryKey: ['farm', farmId],
    queryFn: () => api<{ farm: Farm; barns: Barn[] }>(`/farms/${encodeURIComponent(farmId!)}`),
    enabled: !!farmId,
  });
}

export function useOverview(farmId: string) {
  return useQuery({
    queryKey: ['overview', farmId],
    queryFn: () => api<FarmOverview>(`/farms/${encodeURIComponent(farmId)}/overview`),
    refetchInterval: pollEvery,
    refetchIntervalInBackground: false,
  });
}

export function useInbox() {
  return useQuery({
    queryKey: ['inbox'],
    queryFn: () => api<InboxPage>('/notifications/inbox', { query: { limit: 50 } }),
    refetchInterval: pollEvery,
    // React Query's focusManager reads document.visibilityState: no interval fetch while hidden,
    // and a fetch as soon as the page is shown again (refetchOnWindowFocus, the data being stale).
    refetchIntervalInBackground: false,
    refetchOnWindowFocus: true,
    staleTime: 30_000,
  });
}
