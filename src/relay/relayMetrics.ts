/** Counters and gauges of one relay process, rendered as Prometheus text. */
export class RelayMetrics {
  processed = 0;
  filtered = 0;
  failedAttempts = 0;
  deadLettered = 0;
  historyLost = 0;
  streamErrors = 0;
  checkpointsSaved = 0;
  inFlight = 0;
  streams = 0;
  active = false;
  /** Write → acknowledged latency of the last delivered change, seconds. */
  lagSeconds = 0;
  oldestInFlightMs: () => number | undefined = () => undefined;
  readonly startedAt = Date.now();

  render(relay: string): string {
    const label = `{relay="${relay.replace(/["\\\n]/g, '_')}"}`;
    const lines: string[] = [];
    const metric = (name: string, type: 'counter' | 'gauge', help: string, value: number): void => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name}${label} ${value}`);
    };
    const oldest = this.oldestInFlightMs();
    metric(
      'eventloom_relay_processed_total',
      'counter',
      'Changes delivered through every step.',
      this.processed,
    );
    metric(
      'eventloom_relay_filtered_total',
      'counter',
      'Changes dropped by a filter step.',
      this.filtered,
    );
    metric(
      'eventloom_relay_failed_total',
      'counter',
      'Failed step attempts (each retry counts).',
      this.failedAttempts,
    );
    metric(
      'eventloom_relay_dead_lettered_total',
      'counter',
      'Changes moved to the dead-letter store.',
      this.deadLettered,
    );
    metric(
      'eventloom_relay_history_lost_total',
      'counter',
      'Resume points that had fallen off the oplog.',
      this.historyLost,
    );
    metric(
      'eventloom_relay_stream_errors_total',
      'counter',
      'Change stream errors (the stream is reopened).',
      this.streamErrors,
    );
    metric(
      'eventloom_relay_checkpoints_saved_total',
      'counter',
      'Checkpoint writes.',
      this.checkpointsSaved,
    );
    metric('eventloom_relay_in_flight', 'gauge', 'Changes being delivered now.', this.inFlight);
    metric(
      'eventloom_relay_streams',
      'gauge',
      'Open change streams / subscriptions.',
      this.streams,
    );
    metric(
      'eventloom_relay_active',
      'gauge',
      '1 while this process holds the lease.',
      this.active ? 1 : 0,
    );
    metric(
      'eventloom_relay_lag_seconds',
      'gauge',
      'Source write to acknowledgement of the last delivered change.',
      this.lagSeconds,
    );
    metric(
      'eventloom_relay_oldest_in_flight_seconds',
      'gauge',
      'Age of the oldest change not yet acknowledged (0 when none).',
      oldest === undefined ? 0 : Math.max(0, (Date.now() - oldest) / 1000),
    );
    return lines.join('\n') + '\n';
  }
}
