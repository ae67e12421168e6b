/** Farms and barns: create and edit. */
import { useState, type FormEvent } from 'react';
import { api } from '../../api/client';
import { useFarm, useFarms } from '../../api/queries';
import type { Farm } from '../../api/types';
import { ErrorNote, Loading } from '../../components/ErrorNote';
import { fieldsOf, useSave } from './useSave';

const optionalNumber = (s: string | undefined) => (s === undefined || s === '' ? undefined : Number(s));

function NewFarm() {
  const save = useSave((body: unknown) => api('/farms', { method: 'POST', body }), [['farms']]);
  function submit(ev: FormEvent<HTMLFormElement>) {
    ev.preventDefault();
    const form = ev.currentTarget;
    const f = fieldsOf(form);
    save.mutate(
      {
        farm_id: f.farm_id,
        name: f.name,
        species: f.species,
        timezone: f.timezone || 'UTC',
        comfort_temp_min_c: optionalNumber(f.comfort_temp_min_c),
        comfort_temp_max_c: optionalNumber(f.comfort_temp_max_c),
      },
      { onSuccess: () => form.reset() },
    );
  }
  return (
    <form className="card" onSubmit={submit} aria-labelledby="new-farm">
      <h2 id="new-farm">New farm</h2>
      <div className="form-grid">
        <label>
          Farm id
          <input name="farm_id" required pattern="[A-Za-z0-9_.\-]+" placeholder="north-farm" />
        </label>
        <label>
          Name
          <input name="name" required />
        </label>
        <label>
          Species
          <select name="species">
            <option value="broiler">broiler</option>
            <option value="swine">swine</option>
          </select>
        </label>
        <label>
          Time zone
          <input name="timezone" placeholder="Asia/Bangkok" />
        </label>
        <label>
          Comfort min °C
          <input name="comfort_temp_min_c" type="number" step="0.1" inputMode="decimal" />
        </label>
        <label>
          Comfort max °C
          <input name="comfort_temp_max_c" type="number" step="0.1" inputMode="decimal" />
        </label>
      </div>
      <button className="primary" type="submit" disabled={save.isPending}>
        Create farm
      </button>
      {save.isSuccess && <p className="notice">Farm created.</p>}
      <ErrorNote error={save.error} what="The farm was not created" />
    </form>
  );
}

function FarmEditor({ farm }: { farm: Farm }) {
  const detail = useFarm(farm.farm_id);
  const [editing, setEditing] = useState(false);
  const id = encodeURIComponent(farm.farm_id);
  const saveFarm = useSave(
    (body: unknown) => api(`/farms/${id}`, { method: 'PATCH', body }),
    [['farms'], ['farm', farm.farm_id]],
    () => setEditing(false),
  );
  const addBarn = useSave((body: unknown) => api(`/farms/${id}/barns`, { method: 'POST', body }), [['farm', farm.farm_id], ['farms']]);
  const renameBarn = useSave(
    (v: { barnId: string; name: string }) => api(`/farms/${id}/barns/${encodeURIComponent(v.barnId)}`, { method: 'PATCH', body: { name: v.name } }),
    [['farm', farm.farm_id]],
  );

  function submitFarm(ev: FormEvent<HTMLFormElement>) {
    ev.preventDefault();
    const f = fieldsOf(ev.currentTarget);
    const min = optionalNumber(f.comfort_temp_min_c);
    const max = optionalNumber(f.comfort_temp_max_c);
    saveFarm.mutate({ name: f.name, timezone: f.timezone, comfort_temp_min_c: min ?? null, comfort_temp_max_c: max ?? null });
  }
  function submitBarn(ev: FormEvent<HTMLFormElement>) {
    ev.preventDefault();
    const form = ev.currentTarget;
    const f = fieldsOf(form);
    addBarn.mutate({ barn_id: f.barn_id, name: f.name }, { onSuccess: () => form.reset() });
  }

  return (
    <section className="card" aria-labelledby={`farm-${farm.farm_id}`}>
      <div className="panel-head">
        <h2 id={`farm-${farm.farm_id}`}>
          {farm.name} <span className="muted small">{farm.farm_id}</span>
        </h2>
        <button type="button" className="ghost small" onClick={() => setEditing(!editing)} aria-expanded={editing}>
          {editing ? 'Cancel' : 'Edit farm'}
        </button>
      </div>
      <p className="muted small">
        {farm.species} · {farm.timezone} · comfort {farm.comfort_temp_min_c ?? '—'}–{farm.comfort_temp_max_c ?? '—'} °C
      </p>
      {editing && (
        <form onSubmit={submitFarm} className="form-grid" aria-label={`Edit ${farm.name}`}>
          <label>
            Name
            <input name="name" defaultValue={farm.name} required />
          </label>
          <label>
            Time zone
            <input name="timezone" defaultValue={farm.timezone} required />
          </label>
          <label>
            Comfort min °C
            <input name="comfort_temp_min_c" type="number" step="0.1" defaultValue={farm.comfort_temp_min_c ?? ''} />
          </label>
          <label>
            Comfort max °C
            <input name="comfort_temp_max_c" type="number" step="0.1" defaultValue={farm.comfort_temp_max_c ?? ''} />
          </label>
          <button className="primary" type="submit" disabled={saveFarm.isPending}>
            Save
          </button>
        </form>
      )}
      <ErrorNote error={saveFarm.error} what="The farm was not saved" />
      <h3>Barns</h3>
      {detail.isPending ? (
        <Loading what="barns" />
      ) : detail.isError ? (
        <ErrorNote error={detail.error} />
      ) : (
        <ul className="list">
          {detail.data.barns.map((b) => (
            <li key={b.barn_id} className="row-item">
              <form
                className="inline"
                aria-label={`Rename ${b.name}`}
                onSubmit={(ev) => {
                  ev.preventDefault();
                  renameBarn.mutate({ barnId: b.barn_id, name: fieldsOf(ev.currentTarget).name });
                }}
              >
                <span className="mono">{b.barn_id}</span>
                <input name="name" defaultValue={b.name} aria-label={`Name of ${b.barn_id}`} required />
                <button type="submit" className="ghost small">
                  Rename
                </button>
                <span className="muted small">{b.device_count} devices</span>
              </form>
            </li>
          ))}
        </ul>
      )}
      <ErrorNote error={renameBarn.error} what="The barn was not renamed" />
      <form className="inline" onSubmit={submitBarn} aria-label={`New barn on ${farm.name}`}>
        <input name="barn_id" required placeholder="barn id" aria-label="New barn id" pattern="[A-Za-z0-9_.\-]+" />
        <input name="name" required placeholder="name" aria-label="New barn name" />
        <button type="submit" className="primary small" disabled={addBarn.isPending}>
          Add barn
        </button>
      </form>
      <ErrorNote error={addBarn.error} what="The barn was not added" />
    </section>
  );
}

export function FarmsAdmin() {
  const farms = useFarms();
  return (
    <>
      {farms.isPending ? (
        <Loading what="farms" />
      ) : farms.isError ? (
        <ErrorNote error={farms.error} />
      ) : (
        farms.data.items.map((f) => <FarmEditor key={f.farm_id} farm={f} />)
      )}
      <NewFarm />
    </>
  );
}
