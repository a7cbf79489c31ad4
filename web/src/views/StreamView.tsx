import { useEffect, useMemo, useState } from 'react';
import { JsonView } from '../components/JsonView.tsx';
import { Link } from '../components/Link.tsx';
import { ProblemMessage } from '../components/ProblemMessage.tsx';
import { RelativeTime } from '../components/RelativeTime.tsx';
import { streamCategory } from '../../../src/core/streamCategory.ts';
import { formatDateTime } from '../lib/format.ts';
import type { AppState } from '../store/appState.ts';
import { commands, useAppState } from '../store/appStore.ts';
import { EventCorrelation } from './EventCorrelation.tsx';
import { LiveBadge } from './LiveBadge.tsx';
import { useLiveTail } from './useLiveTail.ts';

/** The highest version of `streamId` the live tail has seen (to reload the stream when it grows). */
const liveVersionOf = (streamId: string) => (s: AppState) => {
  for (const e of s.explorer.live.events) if (e.streamId === streamId) return e.version;
  return 0;
};

/**
 * One stream: its events, and its aggregate's state at any version (time travel). Follows the
 * live tail, so new events of the stream show up as they are recorded.
 */
export function StreamView({
  streamId,
  version,
  event,
}: {
  streamId: string;
  version: number | undefined;
  /** Opens the stream at this event's version (when no version is given). */
  event?: string;
}) {
  useLiveTail();
  const stream = useAppState((s) => s.explorer.stream);
  const aggregate = useAppState((s) => s.explorer.state);
  const liveStatus = useAppState((s) => s.explorer.live.status);
  const liveVersion = useAppState(useMemo(() => liveVersionOf(streamId), [streamId]));

  const page = stream.streamId === streamId ? stream.data : undefined;
  const current = page?.version ?? 0;
  // The slider follows the URL; without a version in it, the named event's or the latest.
  const eventVersion = page?.events.find((e) => e.id === event)?.version;
  const selected = Math.min(version ?? eventVersion ?? current, current);
  const [slider, setSlider] = useState(selected);
  useEffect(() => setSlider(selected), [selected]);

  useEffect(() => {
    void commands.loadStream(streamId);
  }, [streamId, liveVersion]);

  useEffect(() => {
    if (selected < 1) return;
    // Debounced: dragging the slider asks only for where it stops.
    const timer = setTimeout(() => void commands.loadAggregateState(streamId, selected), 120);
    return () => clearTimeout(timer);
  }, [streamId, selected, current]);

  const go = (v: number, replace = true) =>
    commands.navigate(
      { name: 'stream', streamId, version: v >= current ? undefined : Math.max(1, v) },
      { replace },
    );

  const selectedEvent = page?.events.find((e) => e.version === selected);
  const stateShown = aggregate.streamId === streamId ? aggregate : undefined;

  return (
    <div className="stream-view">
      <p>
        <Link to={{ name: 'explorer' }}>← Event explorer</Link>
      </p>
      <div className="heading-row">
        <h1>
          Stream <code className="stream-id">{streamId}</code>
        </h1>
        <LiveBadge status={liveStatus} />
      </div>
      <ProblemMessage
        problem={
          stream.streamId === streamId && stream.status === 'failed' ? stream.problem : undefined
        }
      />
      {page === undefined ? (
        stream.status === 'failed' ? null : (
          <p className="muted">Loading…</p>
        )
      ) : (
        <>
          <p className="muted">
            Category <code>{streamCategory(streamId)}</code> · {page.version}{' '}
            {page.version === 1 ? 'event' : 'events'}
            {page.deleted ? ' · deleted' : ''}
          </p>
          <section className="card time-travel" aria-labelledby="tt-heading">
            <h2 id="tt-heading">Time travel</h2>
            <div className="slider-row">
              <button
                type="button"
                className="secondary"
                onClick={() => go(selected - 1)}
                disabled={selected <= 1}
                aria-label="Previous version"
              >
                ◀
              </button>
              <label htmlFor="version-slider" className="visually-hidden">
                Version
              </label>
              <input
                id="version-slider"
                type="range"
                min={1}
                max={Math.max(1, current)}
                step={1}
                value={slider}
                onChange={(e) => {
                  const v = Number(e.target.value);
                  setSlider(v);
                  go(v);
                }}
                aria-valuetext={`Version ${slider} of ${current}`}
              />
              <button
                type="button"
                className="secondary"
                onClick={() => go(selected + 1)}
                disabled={selected >= current}
                aria-label="Next version"
              >
                ▶
              </button>
              <output htmlFor="version-slider" className="version-output">
                Version <strong>{slider}</strong> of {current}
              </output>
            </div>
            {selectedEvent !== undefined ? (
              <p className="small">
                After <strong>{selectedEvent.type}</strong> at position {selectedEvent.position},{' '}
                <span title={formatDateTime(selectedEvent.recordedAt)}>
                  <RelativeTime iso={selectedEvent.recordedAt} />
                </span>
              </p>
            ) : null}
            <ProblemMessage
              problem={stateShown?.status === 'failed' ? stateShown.problem : undefined}
            />
            {stateShown?.data !== undefined ? (
              <div aria-busy={stateShown.status === 'loading'}>
                <h3 className="small">
                  State of the {stateShown.data.aggregate} at version {stateShown.data.version}
                </h3>
                <JsonView value={stateShown.data.state} label="Aggregate state" />
              </div>
            ) : null}
          </section>
          <section className="card" aria-labelledby="history-heading">
            <h2 id="history-heading">History</h2>
            <ol className="history">
              {page.events.map((e) => (
                <li
                  key={e.id}
                  className={
                    e.version === selected ? 'selected' : e.version > selected ? 'future' : ''
                  }
                  aria-current={e.version === selected ? 'step' : undefined}
                >
                  <button
                    type="button"
                    className="history-event"
                    onClick={() => go(e.version, false)}
                  >
                    <span className="num">v{e.version}</span> <strong>{e.type}</strong>{' '}
                    <span className="muted small">
                      #{e.position} · <RelativeTime iso={e.recordedAt} />
                    </span>
                  </button>
                  {e.version === selected ? (
                    <div className="event-details">
                      <JsonView value={e.data} label={`Data of ${e.type}`} />
                      <EventCorrelation event={e} />
                      {Object.keys(e.metadata).length > 0 ? (
                        <details>
                          <summary>Metadata</summary>
                          <JsonView value={e.metadata} label={`Metadata of ${e.type}`} />
                        </details>
                      ) : null}
                    </div>
                  ) : null}
                </li>
              ))}
            </ol>
          </section>
        </>
      )}
    </div>
  );
}
