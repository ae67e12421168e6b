/** Users: add one, change a role, disable or enable. */
import type { FormEvent } from 'react';
import { useQuery } from '@tanstack/react-query';
import { api } from '../../api/client';
import type { Items, User } from '../../api/types';
import { useMe } from '../../auth/session';
import { ErrorNote, Loading } from '../../components/ErrorNote';
import { ScrollTable } from '../../components/ScrollTable';
import { when } from '../../format';
import { fieldsOf, useSave } from './useSave';

const roleNames = ['viewer', 'operator', 'admin'] as const;

export function UsersAdmin() {
  const me = useMe();
  const users = useQuery({ queryKey: ['users'], queryFn: () => api<Items<User>>('/users') });
  const add = useSave((body: unknown) => api('/users', { method: 'POST', body }), [['users']]);
  const change = useSave((v: { id: string; body: unknown }) => api(`/users/${encodeURIComponent(v.id)}`, { method: 'PATCH', body: v.body }), [['users']]);

  function submit(ev: FormEvent<HTMLFormElement>) {
    ev.preventDefault();
    const form = ev.currentTarget;
    const f = fieldsOf(form);
    add.mutate(
      { email: f.email, role: f.role, password: f.password, ...(f.display_name ? { display_name: f.display_name } : {}) },
      { onSuccess: () => form.reset() },
    );
  }

  return (
    <>
      <form className="card" onSubmit={submit} aria-labelledby="new-user">
        <h2 id="new-user">Add a user</h2>
        <div className="form-grid">
          <label>
            Email
            <input name="email" type="email" required autoComplete="off" />
          </label>
          <label>
            Name (optional)
            <input name="display_name" />
          </label>
          <label>
            Role
            <select name="role" defaultValue="viewer">
              {roleNames.map((r) => (
                <option key={r}>{r}</option>
              ))}
            </select>
          </label>
          <label>
            First password
            <input name="password" type="password" required minLength={10} autoComplete="new-password" />
          </label>
        </div>
        <button type="submit" className="primary" disabled={add.isPending}>
          Add user
        </button>
        {add.isSuccess && <p className="notice">User added.</p>}
        <ErrorNote error={add.error} what="The user was not added" />
      </form>
      <section className="card" aria-labelledby="users-list">
        <h2 id="users-list">Users</h2>
        <ErrorNote error={change.error} what="The user was not changed" />
        {users.isPending ? (
          <Loading what="users" />
        ) : users.isError ? (
          <ErrorNote error={users.error} />
        ) : (
          <ScrollTable label="Users" columns={['User', 'Role', 'Since', 'Access']}>
            {users.data.items.map((u) => {
              const self = u.id === me.id;
              return (
                <tr key={u.id} className={u.disabled_at ? 'disabled' : undefined}>
                  <td>
                    <strong>{u.display_name ?? u.email}</strong>
                    <div className="muted small">{u.email}</div>
                  </td>
                  <td>
                    <select
                      aria-label={`Role of ${u.email}`}
                      value={u.role}
                      disabled={self || change.isPending}
                      onChange={(e) => change.mutate({ id: u.id, body: { role: e.target.value } })}
                    >
                      {roleNames.map((r) => (
                        <option key={r}>{r}</option>
                      ))}
                    </select>
                  </td>
                  <td>{when(u.created_at)}</td>
                  <td>
                    {self ? (
                      <span className="muted small">you</span>
                    ) : (
                      <button
                        type="button"
                        className={u.disabled_at ? 'ghost small' : 'danger small'}
                        disabled={change.isPending}
                        onClick={() => change.mutate({ id: u.id, body: { disabled: !u.disabled_at } })}
                      >
                        {u.disabled_at ? 'Enable' : 'Disable'}
                      </button>
                    )}
                  </td>
                </tr>
              );
            })}
          </ScrollTable>
        )}
      </section>
    </>
  );
}
