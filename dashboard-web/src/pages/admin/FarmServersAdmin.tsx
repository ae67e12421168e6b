/** Farm servers (edges): register one (its private key is shown once), rotate its key, see how it syncs. */
import { useState, type FormEvent } from 'react';
import { useQuery } from '@tanstack/react-query';
import { api } from '../../api/client';
import type { Edge, Items } from '../../api/types';
import { ErrorNote, Loading } from '../../components/ErrorNote';
import { ScrollTable } from '../../components/ScrollTable';
import { ago, when } from '../../format';
import { CopyButton } from './CopyButton';
import { fieldsOf, useSave } from './useSave';

interface NewKey {
  edgeId: string;
  keyId?: string;
  pem: string;
}

function KeyOnce({ k, onDone }: { k: NewKey; onDone: () => void }) {
  return (
    <div className="notice key-once" role="alert" data-testid="private-key">
      <p>
        <strong>The private key of {k.edgeId} — shown only now.</strong> Put it on the farm server (its key file); FarmIQ keeps only the public half.
      </p>
      <pre className="command">{k.pem}</pre>
      <CopyButton text={k.pem} what="private key" />{' '}
      <button type="button" className="ghost small" onClick={onDone}>
        I have stored it
      </button>
    </div>
  );
}

export function FarmServersAdmin() {
  const edges = useQuery({ queryKey: ['edges'], queryFn: () => api<Items<Edge>>('/edges') });
  const [key, setKey] = useState<NewKey | null>(null);
  const register = useSave(
    (body: { edge_id: string; name?: string }) => api<{ edge: Edge; private_key_pem: string }>('/edges', { method: 'POST', body }),
    [['edges']],
    (r) => setKey({ edgeId: r.edge.edge_id, pem: r.private_key_pem }),
  );
  const rotate = useSave(
    (edgeId: string) =>
      api<{ key_id: string; private_key_pem: string }>(`/edges/${encodeURIComponent(edgeId)}/rotate-key`, { method: 'POST' }).then((r) => ({ ...r, edgeId })),
    [['edges']],
    (r) => setKey({ edgeId: r.edgeId, keyId: r.key_id, pem: r.private_key_pem }),
  );

  function submit(ev: FormEvent<HTMLFormElement>) {
    ev.preventDefault();
    const form = ev.currentTarget;
    const f = fieldsOf(form);
    register.mutate({ edge_id: f.edge_id, ...(f.name ? { name: f.name } : {}) }, { onSuccess: () => form.reset() });
  }

  return (
    <>
      {key && <KeyOnce k={key} onDone={() => setKey(null)} />}
      <form className="card" onSubmit={submit} aria-labelledby="new-edge">
        <h2 id="new-edge">Register a farm server</h2>
        <div className="form-grid">
          <label>
            Farm server id
            <input name="edge_id" required pattern="[A-Za-z0-9_.\-]+" placeholder="north-farm-edge" />
          </label>
          <label>
            Name (optional)
            <input name="name" />
          </label>
        </div>
        <button type="submit" className="primary" disabled={register.isPending}>
          Register
        </button>
        <ErrorNote error={register.error} what="The farm server was not registered" />
      </form>
      <section className="card" aria-labelledby="edges-list">
        <h2 id="edges-list">Farm servers</h2>
        <ErrorNote error={rotate.error} what="The key was not rotated" />
        {edges.isPending ? (
          <Loading what="farm servers" />
        ) : edges.isError ? (
          <ErrorNote error={edges.error} />
        ) : (
          <ScrollTable label="Farm servers" columns={['Farm server', 'Status', 'Last batch', 'Key', 'Registered', { label: 'Actions', hidden: true }]}>
            {edges.data.items.map((e) => (
              <tr key={e.edge_id}>
                <td>
                  <strong>{e.edge_id}</strong>
                  {e.name && <div className="muted small">{e.name}</div>}
                </td>
                <td>
                  <span className={`pill edge-${e.status}`}>{e.status}</span>
                </td>
                <td>{ago(e.last_batch_at)}</td>
                <td className="mono small">{e.key_id}</td>
                <td>{when(e.created_at)}</td>
                <td>
                  {!e.revoked_at && (
                    <button
                      type="button"
                      className="ghost small"
                      disabled={rotate.isPending}
                      onClick={() => {
                        if (window.confirm(`Rotate the key of ${e.edge_id}? The farm server needs the new key before it can sync again.`))
                          rotate.mutate(e.edge_id);
                      }}
                    >
                      Rotate key
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </ScrollTable>
        )}
      </section>
    </>
  );
}
