/** Devices: add (the farm server still has to provision it: the API says with which command) and remove. */
import { useState, type FormEvent } from 'react';
import { useQuery } from '@tanstack/react-query';
import { api } from '../../api/client';
import { useFarm, useFarms } from '../../api/queries';
import type { Device, Items } from '../../api/types';
import { ErrorNote, Loading } from '../../components/ErrorNote';
import { ScrollTable } from '../../components/ScrollTable';
import { when } from '../../format';
import { CopyButton } from './CopyButton';
import { fieldsOf, useSave } from './useSave';

const kinds = ['sensor', 'weighvision-station', 'feed-dispenser', 'mortality-counter', 'siren'];

interface Provisioned {
  device: Device;
  provisioning: { status: string; command: string };
}

export function DevicesAdmin() {
  const farms = useFarms();
  const [farmId, setFarmId] = useState('');
  const chosen = farmId || farms.data?.items[0]?.farm_id || '';
  const farm = useFarm(chosen || undefined);
  const devices = useQuery({
    queryKey: ['devices', chosen],
    queryFn: () => api<Items<Device>>('/devices', { query: { farm_id: chosen } }),
    enabled: !!chosen,
  });
  const [made, setMade] = useState<Provisioned | null>(null);
  const add = useSave(
    (body: unknown) => api<Provisioned>('/devices', { method: 'POST', body }),
    [
      ['devices', chosen],
      ['farm', chosen],
    ],
    setMade,
  );
  const remove = useSave(
    (d: Device) =>
      api(`/farms/${encodeURIComponent(d.farm_id)}/barns/${encodeURIComponent(d.barn_id)}/devices/${encodeURIComponent(d.device_id)}`, {
        method: 'DELETE',
        as: 'none',
      }),
    [
      ['devices', chosen],
      ['farm', chosen],
    ],
  );

  function submit(ev: FormEvent<HTMLFormElement>) {
    ev.preventDefault();
    const form = ev.currentTarget;
    const f = fieldsOf(form);
    add.mutate({ farm_id: chosen, barn_id: f.barn_id, device_id: f.device_id, kind: f.kind }, { onSuccess: () => form.reset() });
  }

  return (
    <>
      <label className="card inline-label">
        Farm
        <select value={chosen} onChange={(e) => setFarmId(e.target.value)}>
          {farms.data?.items.map((f) => (
            <option key={f.farm_id} value={f.farm_id}>
              {f.name}
            </option>
          ))}
        </select>
      </label>
      <form className="card" onSubmit={submit} aria-labelledby="new-device">
        <h2 id="new-device">Add a device</h2>
        <div className="form-grid">
          <label>
            Barn
            <select name="barn_id" required>
              {farm.data?.barns.map((b) => (
                <option key={b.barn_id} value={b.barn_id}>
                  {b.name}
                </option>
              ))}
            </select>
          </label>
          <label>
            Device id
            <input name="device_id" required pattern="[A-Za-z0-9_.\-]+" placeholder="climate-3" />
          </label>
          <label>
            Kind
            <select name="kind">
              {kinds.map((k) => (
                <option key={k}>{k}</option>
              ))}
            </select>
          </label>
        </div>
        <button type="submit" className="primary" disabled={add.isPending || !chosen}>
          Add device
        </button>
        <ErrorNote error={add.error} what="The device was not added" />
        {made && (
          <div className="notice" role="status" data-testid="provisioning">
            <p>
              <strong>{made.device.device_id}</strong> is registered. The device is provisioned on the farm server with:
            </p>
            <pre className="command">{made.provisioning.command}</pre>
            <CopyButton text={made.provisioning.command} what="command" />
          </div>
        )}
      </form>
      <section className="card" aria-labelledby="devices-title">
        <h2 id="devices-title">Devices</h2>
        <ErrorNote error={remove.error} what="The device was not removed" />
        {devices.isPending ? (
          <Loading what="devices" />
        ) : devices.isError ? (
          <ErrorNote error={devices.error} />
        ) : (
          <ScrollTable label="Devices" columns={['Barn', 'Device', 'Kind', 'Added', { label: 'Actions', hidden: true }]}>
            {devices.data.items.map((d) => (
              <tr key={`${d.barn_id}/${d.device_id}`}>
                <td>{d.barn_id}</td>
                <td className="mono">{d.device_id}</td>
                <td>{d.kind}</td>
                <td>{when(d.created_at)}</td>
                <td>
                  <button
                    type="button"
                    className="danger small"
                    onClick={() => {
                      if (window.confirm(`Remove ${d.device_id} from ${d.barn_id}?`)) remove.mutate(d);
                    }}
                  >
                    Remove
                  </button>
                </td>
              </tr>
            ))}
          </ScrollTable>
        )}
      </section>
    </>
  );
}
