/** Sign in: email and password; a tenant choice when the API asks for one; the lockout's end on 429. */
import { useState, type FormEvent } from 'react';
import { ApiError, retryAt } from '../api/client';
import { useSession } from '../auth/session';
import { ErrorNote } from '../components/ErrorNote';

interface TenantChoice {
  id: string;
  name: string;
}

function tenantsOf(e: ApiError): TenantChoice[] {
  const b = e.body as { tenants?: TenantChoice[]; error?: { tenants?: TenantChoice[] } } | null;
  return b?.tenants ?? b?.error?.tenants ?? [];
}

export function SignIn() {
  const { signIn } = useSession();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [tenants, setTenants] = useState<TenantChoice[]>([]);
  const [tenantId, setTenantId] = useState('');
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);

  async function submit(ev: FormEvent) {
    ev.preventDefault();
    setBusy(true);
    setError(null);
    setMessage(null);
    try {
      await signIn({ email, password, ...(tenantId ? { tenant_id: tenantId } : {}) });
    } catch (e) {
      if (e instanceof ApiError && e.code === 'tenant_choice_required') {
        const list = tenantsOf(e);
        setTenants(list);
        setTenantId(list[0]?.id ?? '');
        setMessage('This email belongs to several farms’ accounts: choose which to sign in to.');
      } else if (e instanceof ApiError && e.status === 429) {
        setMessage(`Too many attempts: signing in is locked until ${retryAt(e)}.`);
      } else if (e instanceof ApiError && e.status === 401) {
        setMessage('The email or password is not right.');
      } else {
        setError(e);
      }
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="sign-in" id="main">
      <form onSubmit={(e) => void submit(e)} className="card sign-in-card" aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">
          <span className="logo" aria-hidden="true">
            ▲
          </span>{' '}
          FarmIQ
        </h1>
        <p className="muted">Sign in to see your barns.</p>
        <label>
          Email
          <input type="email" name="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />
        </label>
        <label>
          Password
          <input type="password" name="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        </label>
        {tenants.length > 0 && (
          <label>
            Account
            <select name="tenant" value={tenantId} onChange={(e) => setTenantId(e.target.value)}>
              {tenants.map((t) => (
                <option key={t.id} value={t.id}>
                  {t.name}
                </option>
              ))}
            </select>
          </label>
        )}
        {message && (
          <p className="notice" role="alert">
            {message}
          </p>
        )}
        <ErrorNote error={error} what="Signing in failed" />
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
