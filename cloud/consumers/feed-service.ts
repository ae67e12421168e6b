/**
 * cloud-feed-service (spec §4 step 8): the authoritative feed intake. One row per dispense: the
 * key is the device's feed.dispensed id (source_event_id), so a dispense the edge recorded twice
 * under two intake event ids (a crash between its dedupe and outbox, say) is counted once — the
 * first record stands, a later one changes nothing.
 */
import type { ConsumerService } from './event-consumer';

const feedSql = `
INSERT INTO feed_intake (tenant_id, event_id, source_event_id, farm_id, barn_id, device_id, quantity_kg, feed_type,
                         silo_id, pen_id, animal_count, dispensed_at, trace_id)
SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::numeric[], $8::text[],
                     $9::text[], $10::text[], $11::int[], $12::timestamptz[], $13::text[])
ON CONFLICT DO NOTHING`;

export const feedService: ConsumerService = {
  name: 'cloud-feed-service',
  writers: {
    async 'feed.intake.recorded'(client, events) {
      await client.query(feedSql, [
        events.map((e) => e.tenant_id),
        events.map((e) => e.event_id),
        events.map((e) => e.payload.source_event_id),
        events.map((e) => e.payload.farm_id),
        events.map((e) => e.payload.barn_id),
        events.map((e) => e.device_id),
        events.map((e) => e.payload.quantity_kg),
        events.map((e) => e.payload.feed_type),
        events.map((e) => e.payload.silo_id ?? null),
        events.map((e) => e.payload.pen_id ?? null),
        events.map((e) => e.payload.animal_count ?? null),
        events.map((e) => e.payload.dispensed_at),
        events.map((e) => e.trace_id),
      ]);
    },
  },
};
