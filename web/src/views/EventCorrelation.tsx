import { useEffect, useState } from 'react';
import { toProblem } from '../api/apiClient.ts';
import type { Problem, StoredEvent } from '../api/types.ts';
import { Link } from '../components/Link.tsx';
import { ProblemMessage } from '../components/ProblemMessage.tsx';
import { correlationIdOf, traceIdOf } from '../lib/eventTrace.ts';
import { formatDateTime } from '../lib/format.ts';
import { api } from '../store/appStore.ts';

/** Pages of 1000 events read at most while looking for a correlation's events. */
const MAX_PAGES = 50;

type Related =
  | { status: 'loading' }
  | { status: 'done'; events: StoredEvent[]; complete: boolean }
  | { status: 'failed'; problem: Problem };

/** Every event of the correlation, in global order (the server filters page by page). */
async function loadCorrelated(correlationId: string): Promise<Related> {
  const events: StoredEvent[] = [];
  let from = 0;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const { data } = await api.correlatedEvents(correlationId, from);
    events.push(...data.events);
    if (data.nextFrom > data.head || data.nextFrom === from) {
      return { status: 'done', events, complete: true };
    }
    from = data.nextFrom;
  }
  return { status: 'done', events, complete: false };
}

/**
 * An event's trace id (from `metadata.traceparent`) and the events sharing its
 * `metadata.correlationId`, on a timeline across streams, this one marked.
 */
export function EventCorrelation({ event }: { event: StoredEvent }) {
  const metadata = event.metadata;
  const traceId = traceIdOf(metadata);
  const correlationId = correlationIdOf(metadata);
  const [related, setRelated] = useState<Related>({ status: 'loading' });

  useEffect(() => {
    if (correlationId === undefined) return;
    let current = true;
    setRelated({ status: 'loading' });
    loadCorrelated(correlationId).then(
      (r) => current && setRelated(r),
      (error: unknown) => current && setRelated({ status: 'failed', problem: toProblem(error) }),
    );
    return () => {
      current = false;
    };
  }, [correlationId]);

  return (
    <div className="event-correlation">
      <p className="small">
        Trace id:{' '}
        {traceId !== undefined ? (
          <code data-testid="trace-id">{traceId}</code>
        ) : (
          <span className="muted">none (appended outside a trace)</span>
        )}
      </p>
      {correlationId === undefined ? null : (
        <section aria-label={`Events of correlation ${correlationId}`}>
          <p className="small">
            Correlation <code>{correlationId}</code>
          </p>
          {related.status === 'loading' ? <p className="muted small">Loading…</p> : null}
          <ProblemMessage problem={related.status === 'failed' ? related.problem : undefined} />
          {related.status === 'done' ? (
            <>
              <ol className="timeline" aria-label="Correlated events">
                {related.events.map((e) => (
                  <li key={e.id} className={e.id === event.id ? 'selected' : ''}>
                    <time dateTime={e.recordedAt}>{formatDateTime(e.recordedAt)}</time>{' '}
                    <Link
                      to={{ name: 'stream', streamId: e.streamId, version: e.version, event: e.id }}
                    >
                      {e.streamId}
                    </Link>{' '}
                    <strong>{e.type}</strong>
                    {traceIdOf(e.metadata) === traceId && traceId !== undefined ? (
                      <span className="muted small"> · same trace</span>
                    ) : null}
                  </li>
                ))}
              </ol>
              {related.complete ? null : (
                <p className="muted small">
                  Only the first {MAX_PAGES * 1000} events were searched.
                </p>
              )}
            </>
          ) : null}
        </section>
      )}
    </div>
  );
}
