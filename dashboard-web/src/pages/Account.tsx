/** The signed-in user's own account: who they are (GET /me) and a password change (any role). */
import { useMutation, useQuery } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, ApiError, retryAt, type Me } from '../api/client';
import { ErrorNote, Loading } from '../components/ErrorNote';

/** What a refused change means to the user; null: show the error as it is. */
function refusal(e: unknown): string | null {
  if (!(e instanceof ApiError)) return null;
  if (e.code === 'invalid_credentials') return 'The current password is wrong.';
  if (e.code === 'weak_password') return `The new password is too weak: ${e.message}.`;
  if (e.code === 'sign_in_locked' || e.status === 429) return `Too many wrong passwords: try again after ${retryAt(e)}.`;
  return null;
}

function PasswordForm() {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  const [mismatch, setMismatch] = useState(false);
  const change = useMutation({
    mutationFn: (body: { current_password: string; new_password: string }) => api<void>('/me/password', { method: 'POST', body, as: 'none' }),
    onSuccess: () => {
      setCurrent('');
      setNext('');
      setRepeat('');
    },
  });

  function submit(ev: FormEvent) {
    ev.preventDefault();
    setMismatch(next !== repeat);
    if (next !== repeat) return;
    change.mutate({ current_password: current, new_password: next });
  }

  const why = change.isError ? refusal(change.error) : null;
  return (
    <form className="card account-form" onSubmit={submit} aria-labelledby="password-title">
      <h2 id="password-title">Change password</h2>
      <label>
        Current password
        <input type="password" name="current_password" autoComplete="current-password" required value={current} onChange={(e) => setCurrent(e.target.value)} />
      </label>
      <label>
        New password
        <input type="password" name="new_password" autoComplete="new-password" required value={next} onChange={(e) => setNext(e.target.value)} />
      </label>
      <label>
        Repeat the new password
        <input type="password" name="repeat_password" autoComplete="new-password" required value={repeat} onChange={(e) => setRepeat(e.target.value)} />
      </label>
      <p className="muted">At least 10 characters.</p>
      {mismatch && (
        <p className="notice" role="alert">
          The two new passwords differ.
        </p>
      )}
      {why && (
        <p className="notice" role="alert">
          {why}
        </p>
      )}
      {change.isError && !why && <ErrorNote error={change.error} what="The password was not changed" />}
      {change.isSuccess && (
        <p className="notice ok" role="status">
          Password changed. Your other sessions were signed out; this one stays signed in.
        </p>
      )}
      <button type="submit" className="primary" disabled={change.isPending}>
        {change.isPending ? 'Changing…' : 'Change password'}
      </button>
    </form>
  );
}

export function AccountPage() {
  const me = useQuery({ queryKey: ['me'], queryFn: () => api<Me>('/me') });
  return (
    <>
      <div className="page-head">
        <h1>Your account</h1>
      </div>
      {me.isPending && <Loading what="your account" />}
      {me.isError && <ErrorNote error={me.error} what="Your account could not be loaded" />}
      {me.data && (
        <section className="card" aria-labelledby="me-title">
          <h2 id="me-title">Signed in as</h2>
          <dl className="facts">
            <div>
              <dt>Name</dt>
              <dd>{me.data.display_name ?? '—'}</dd>
            </div>
            <div>
              <dt>Email</dt>
              <dd className="wrap">{me.data.email}</dd>
            </div>
            <div>
              <dt>Role</dt>
              <dd>{me.data.role}</dd>
            </div>
            <div>
              <dt>Account</dt>
              <dd>{me.data.tenant_name}</dd>
            </div>
          </dl>
        </section>
      )}
      <PasswordForm />
    </>
  );
}
