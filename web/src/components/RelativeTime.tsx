import { formatDateTime } from '../lib/format.ts';
import { relativeTime } from '../lib/relativeTime.ts';
import { useAppState } from '../store/appStore.ts';

/** "3 minutes ago", kept current by the store's clock; the exact time on hover. */
export function RelativeTime({ iso }: { iso: string }) {
  const now = useAppState((s) => s.now);
  return (
    <time dateTime={iso} title={formatDateTime(iso)}>
      {relativeTime(iso, now)}
    </time>
  );
}
