/**
 * cloud-media-store (spec §8.3, optional): the metadata of images stored on the farm's object
 * store. The image itself stays on the farm; one row per media id.
 */
import type { ConsumerService } from './event-consumer';

const mediaSql = `
INSERT INTO media_objects (tenant_id, media_id, event_id, session_id, farm_id, barn_id, station_id, object_key,
                           content_type, size_bytes, stored_at, trace_id)
SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                     $9::text[], $10::bigint[], $11::timestamptz[], $12::text[])
ON CONFLICT DO NOTHING`;

export const mediaStore: ConsumerService = {
  name: 'cloud-media-store',
  writers: {
    async 'media.stored'(client, events) {
      await client.query(mediaSql, [
        events.map((e) => e.tenant_id),
        events.map((e) => e.payload.media_id),
        events.map((e) => e.event_id),
        events.map((e) => e.payload.session_id),
        events.map((e) => e.payload.farm_id),
        events.map((e) => e.payload.barn_id),
        events.map((e) => e.payload.station_id),
        events.map((e) => e.payload.object_key),
        events.map((e) => e.payload.content_type),
        events.map((e) => e.payload.size_bytes),
        events.map((e) => e.ts),
        events.map((e) => e.trace_id),
      ]);
    },
  },
};
