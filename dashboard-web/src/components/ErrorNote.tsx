import { ApiError } from '../api/client';

/** An error as the user reads it, with the request id support looks up in the logs. */
export function ErrorNote({ error, what }: { error: unknown; what?: string }) {
  if (!error) return null;
  const e = error instanceof ApiError ? error : null;
  return (
    <div className="error" role="alert">
      <strong>{what ? `${what}: ` : ''}</strong>
      {e ? e.message : error instanceof Error ? error.message : 'something went wrong'}
      {e && (
        <span className="request-id">
          {' '}
          ({e.code}; request id <code>{e.requestId}</code>)
        </span>
      )}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="muted" role="status">
      Loading {what}…
    </p>
  );
}
