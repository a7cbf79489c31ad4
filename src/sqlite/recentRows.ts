/**
 * The rows of this connection's latest commits, so that `readAll` of the log's tail (what every
 * live subscriber asks for after each append) needs no SQL. It answers only when it is sure to
 * hold every committed row from the requested position to the head: its rows are contiguous in
 * position, and no other connection has committed since its last write (SQLite's
 * `data_version`). Otherwise — another process appended, or the range starts before it — the
 * caller reads SQL as before.
 */
export class RecentRows<Row> {
  private rows: Row[] = [];
  private dataVersion: number | undefined;

  constructor(
    private readonly capacity: number,
    private readonly positionOf: (row: Row) => number,
  ) {}

  /**
   * After a commit: its rows in position order, and `data_version` as read inside the write
   * transaction (the write lock was held, so no other commit can hide between the two).
   */
  committed(rows: readonly Row[], dataVersion: number): void {
    if (rows.length === 0) return;
    const last = this.rows[this.rows.length - 1];
    // Another process's appends leave a gap: what was held is no longer the log's tail.
    if (last === undefined || this.positionOf(rows[0]!) !== this.positionOf(last) + 1) {
      this.rows = [];
    }
    this.rows.push(...rows);
    if (this.rows.length > 2 * this.capacity) this.rows = this.rows.slice(-this.capacity);
    this.dataVersion = dataVersion;
  }

  /** The committed rows from `from` on (at most `maxCount`; < 0: all), or undefined: read SQL. */
  from(from: number, maxCount: number, dataVersionNow: number): readonly Row[] | undefined {
    const first = this.rows[0];
    if (
      first === undefined ||
      dataVersionNow !== this.dataVersion ||
      from < this.positionOf(first)
    ) {
      return undefined;
    }
    const start = from - this.positionOf(first);
    return this.rows.slice(start, maxCount < 0 ? undefined : start + maxCount);
  }
}
