/** A CSV download of the same URL (?format=csv), fetched with the token and saved as a file. */
import { useState } from 'react';
import { downloadCsv, type CallOptions } from '../api/client';
import { ErrorNote } from './ErrorNote';

export function CsvButton({ path, query, filename }: { path: string; query?: CallOptions['query']; filename: string }) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  return (
    <>
      <button
        type="button"
        className="ghost small"
        disabled={busy}
        onClick={() => {
          setBusy(true);
          setError(null);
          downloadCsv(path, query, filename)
            .catch(setError)
            .finally(() => setBusy(false));
        }}
      >
        {busy ? 'Preparing…' : 'Download CSV'}
      </button>
      <ErrorNote error={error} what="The download failed" />
    </>
  );
}
