/** A row of an events table as better-sqlite3 returns it, and the plainest way to parse it. */
export interface RawEventRow {
  position: number;
  event_id: string;
  stream_id: string;
  version: number;
  type: string;
  data: string;
  metadata: string;
  recorded_at: number;
}

/** The same object a store hands out, built the plainest way (the baselines' read side). */
export const parseRawEventRow = (r: RawEventRow) => ({
  id: r.event_id,
  streamId: r.stream_id,
  type: r.type,
  data: JSON.parse(r.data) as unknown,
  metadata: JSON.parse(r.metadata) as unknown,
  version: r.version,
  position: r.position,
  recordedAt: new Date(r.recorded_at),
});
