import type { LiveStatus } from '../store/appState.ts';

const LABELS: Record<LiveStatus, string> = {
  idle: 'Not connected',
  connecting: 'Connecting…',
  open: 'Live',
  reconnecting: 'Reconnecting…',
  closed: 'Disconnected',
};

export function LiveBadge({ status }: { status: LiveStatus }) {
  return (
    <span
      className={`badge live-${status}`}
      role="status"
      aria-live="polite"
      data-live-status={status}
    >
      <span aria-hidden="true">●</span> {LABELS[status]}
    </span>
  );
}
