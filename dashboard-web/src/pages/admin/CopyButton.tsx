import { useState } from 'react';

/** Copies a text (a command, a private key) to the clipboard. */
export function CopyButton({ text, what }: { text: string; what: string }) {
  const [done, setDone] = useState<string | null>(null);
  return (
    <button
      type="button"
      className="ghost small"
      onClick={() => {
        navigator.clipboard
          .writeText(text)
          .then(() => setDone('Copied'))
          .catch(() => setDone('Copy failed: select the text and copy it'));
      }}
    >
      {done ?? `Copy ${what}`}
    </button>
  );
}
