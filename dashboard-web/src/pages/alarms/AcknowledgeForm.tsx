/**
 * Acknowledge an alarm (operator+; the caller renders it only for them), with an optional note.
 * The answer is a queued downlink command: the alarm reads "acknowledged" once the farm server
 * has applied it and said so, until then "waiting for the farm server".
 */
import { useState, type FormEvent } from 'react';
import { ApiError } from '../../api/client';
import { useAcknowledge, type Alarm } from '../../api/alarms';
import { ErrorNote } from '../../components/ErrorNote';

const refusal: Record<string, string> = {
  alarm_cleared: 'The alarm has already cleared: there is nothing to acknowledge.',
  already_acknowledged: 'Someone has already acknowledged this alarm.',
  farm_server_unknown: 'The cloud does not know which farm server raised this alarm: acknowledge it on the farm server.',
};

export function AcknowledgeForm({ alarm }: { alarm: Alarm }) {
  const [open, setOpen] = useState(false);
  const [note, setNote] = useState('');
  const ack = useAcknowledge();
  const known = ack.error instanceof ApiError ? refusal[ack.error.code] : undefined;

  function submit(ev: FormEvent) {
    ev.preventDefault();
    const trimmed = note.trim();
    ack.mutate({ alarmId: alarm.alarm_id, ...(trimmed ? { note: trimmed } : {}) }, { onSuccess: () => setOpen(false) });
  }

  if (!open)
    return (
      <div className="ack">
        <button type="button" className="primary" onClick={() => setOpen(true)} disabled={ack.isPending}>
          Acknowledge
        </button>
        {known ? <p className="notice">{known}</p> : <ErrorNote error={ack.error} what="The acknowledgement was not sent" />}
      </div>
    );
  return (
    <form className="ack ack-form" onSubmit={submit} aria-label={`Acknowledge: ${alarm.summary}`}>
      <label>
        Note (optional)
        <textarea name="note" rows={2} maxLength={1000} value={note} onChange={(e) => setNote(e.target.value)} placeholder="What you are doing about it" />
      </label>
      <div className="form-row">
        <button type="submit" className="primary" disabled={ack.isPending}>
          {ack.isPending ? 'Sending…' : 'Send acknowledgement'}
        </button>
        <button type="button" className="ghost" onClick={() => setOpen(false)} disabled={ack.isPending}>
          Cancel
        </button>
      </div>
      {known ? <p className="notice">{known}</p> : <ErrorNote error={ack.error} what="The acknowledgement was not sent" />}
    </form>
  );
}
