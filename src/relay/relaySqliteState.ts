// Loaded only when a config picks SQLite state (better-sqlite3 is an optional peer).
import Database from 'better-sqlite3';
import type { ChangeMessage } from './relayChange.js';
import type { DeadLetter, RelayCheckpoint, RelayStateStore } from './relayStateStore.js';

type Db = Database.Database;

/**
 * Relay state in a SQLite file (WAL mode, so a standby relay on the same machine can share
 * it): tables `relay_checkpoints`, `relay_dead_letters`, `relay_leases`.
 */
export async function createSqliteRelayState(options: {
  path: string;
  relay: string;
}): Promise<RelayStateStore> {
  const db: Db = new Database(options.path);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  db.exec(`
    CREATE TABLE IF NOT EXISTS relay_checkpoints (relay TEXT NOT NULL, stream_key TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (relay, stream_key));
    CREATE TABLE IF NOT EXISTS relay_dead_letters (relay TEXT NOT NULL, key TEXT NOT NULL, dead_at INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY (relay, key));
    CREATE TABLE IF NOT EXISTS relay_leases (relay TEXT PRIMARY KEY, owner TEXT, version INTEGER NOT NULL);
  `);
  const relay = options.relay;
  // Canonical Extended JSON keeps resume tokens and Timestamps exact; the driver (and its
  // BSON library) is optional when the source is a SQLite event store, so plain JSON then.
  const bson = await import('mongodb').then(
    (m) => m.BSON,
    () => undefined,
  );
  const encode = (value: unknown): string =>
    bson ? bson.EJSON.stringify(value, { relaxed: false }) : JSON.stringify(value);
  const decode = (text: string): Record<string, unknown> =>
    (bson ? bson.EJSON.parse(text, { relaxed: false }) : JSON.parse(text)) as Record<
      string,
      unknown
    >;
  const relaxed = (value: unknown): unknown =>
    bson ? bson.EJSON.serialize(value, { relaxed: true }) : value;
  const toCheckpoint = (body: string): RelayCheckpoint => {
    const cp = decode(body) as unknown as RelayCheckpoint;
    // Canonical EJSON gives numbers back as Int32/Double wrappers; positions are plain numbers.
    return {
      ...cp,
      ...(cp.position !== undefined ? { position: Number(cp.position) } : {}),
      ...(cp.time !== undefined ? { time: { t: Number(cp.time.t), i: Number(cp.time.i) } } : {}),
      updatedAt: new Date(cp.updatedAt),
    };
  };
  // The message is already Extended JSON: kept as its JSON text, it comes back byte for byte.
  // Rows without `messageJson` are older ones, whose message went through canonical EJSON.
  const toDeadLetter = (body: string): DeadLetter => {
    const { messageJson, ...d } = decode(body) as unknown as DeadLetter & {
      message: unknown;
      messageJson?: string;
    };
    return {
      ...d,
      deadAt: new Date(d.deadAt),
      message: (messageJson !== undefined
        ? JSON.parse(messageJson)
        : relaxed(d.message)) as ChangeMessage,
    };
  };
  const statements = {
    load: db.prepare<[string, string], { body: string }>(
      'SELECT body FROM relay_checkpoints WHERE relay = ? AND stream_key = ?',
    ),
    save: db.prepare(
      'INSERT INTO relay_checkpoints (relay, stream_key, body) VALUES (?, ?, ?) ON CONFLICT (relay, stream_key) DO UPDATE SET body = excluded.body',
    ),
    list: db.prepare<[string], { body: string }>(
      'SELECT body FROM relay_checkpoints WHERE relay = ?',
    ),
    clear: db.prepare('DELETE FROM relay_checkpoints WHERE relay = ?'),
    addDead: db.prepare(
      'INSERT INTO relay_dead_letters (relay, key, dead_at, body) VALUES (?, ?, ?, ?) ON CONFLICT (relay, key) DO UPDATE SET dead_at = excluded.dead_at, body = excluded.body',
    ),
    listDead: db.prepare<[string, number], { body: string }>(
      'SELECT body FROM relay_dead_letters WHERE relay = ? ORDER BY dead_at LIMIT ?',
    ),
    removeDead: db.prepare('DELETE FROM relay_dead_letters WHERE relay = ? AND key = ?'),
    readLease: db.prepare<[string], { owner: string | null; version: number }>(
      'SELECT owner, version FROM relay_leases WHERE relay = ?',
    ),
    createLease: db.prepare(
      'INSERT INTO relay_leases (relay, owner, version) VALUES (?, ?, 1) ON CONFLICT DO NOTHING',
    ),
    swapLease: db.prepare(
      'UPDATE relay_leases SET owner = ?, version = version + 1 WHERE relay = ? AND version = ?',
    ),
  };
  return {
    description: `SQLite file ${options.path}`,
    async loadCheckpoint(streamKey) {
      const row = statements.load.get(relay, streamKey);
      return row ? toCheckpoint(row.body) : undefined;
    },
    async saveCheckpoint(cp) {
      statements.save.run(relay, cp.streamKey, encode(cp));
    },
    async listCheckpoints() {
      return statements.list.all(relay).map((r) => toCheckpoint(r.body));
    },
    async deleteCheckpoints() {
      statements.clear.run(relay);
    },
    async addDeadLetter(entry) {
      const { message, ...rest } = entry;
      const body = encode({ ...rest, messageJson: JSON.stringify(message) });
      statements.addDead.run(relay, entry.key, entry.deadAt.getTime(), body);
    },
    async listDeadLetters(opts = {}) {
      return statements.listDead.all(relay, opts.limit ?? -1).map((r) => toDeadLetter(r.body));
    },
    async removeDeadLetter(key) {
      statements.removeDead.run(relay, key);
    },
    async readLease() {
      return statements.readLease.get(relay);
    },
    async createLease(owner) {
      return statements.createLease.run(relay, owner).changes === 1;
    },
    async swapLease(expected, owner) {
      return statements.swapLease.run(owner, relay, expected).changes === 1;
    },
    async close() {
      db.close();
    },
  };
}
