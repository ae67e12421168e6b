/** A write of an admin page: the call, then the lists it changes fetched again. */
import { useMutation, useQueryClient } from '@tanstack/react-query';

export function useSave<V, R = unknown>(call: (v: V) => Promise<R>, refresh: unknown[][], onDone?: (r: R) => void) {
  const queries = useQueryClient();
  return useMutation({
    mutationFn: call,
    onSuccess: async (r) => {
      await Promise.all(refresh.map((queryKey) => queries.invalidateQueries({ queryKey })));
      onDone?.(r);
    },
  });
}

/** The named fields of a submitted form, as strings. */
export function fieldsOf(form: HTMLFormElement): Record<string, string> {
  return Object.fromEntries([...new FormData(form).entries()].map(([k, v]) => [k, typeof v === 'string' ? v.trim() : v.name]));
}
