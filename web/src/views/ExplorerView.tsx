import { type FormEvent, useState } from 'react';
import { Link } from '../components/Link.tsx';
import { ProblemMessage } from '../components/ProblemMessage.tsx';
import { RelativeTime } from '../components/RelativeTime.tsx';
import { Sparkline } from '../components/Sparkline.tsx';
import { streamCategory } from '../../../src/core/streamCategory.ts';
import { commands, useAppState } from '../store/appStore.ts';
import { ExplorerTabs } from './ExplorerTabs.tsx';
import { LiveBadge } from './LiveBadge.tsx';
import { useLiveTail } from './useLiveTail.ts';
import { usePolling } from './usePolling.ts';

const RATE_WINDOW_SECONDS = 300;
const RATE_BUCKET_SECONDS = 5;
const loadRate = () => commands.loadEventRate(RATE_WINDOW_SECONDS, RATE_BUCKET_SECONDS);
const loadSubscriptions = () => commands.loadSubscriptions();

function EventRateCard() {
  const rate = useAppState((s) => s.explorer.rate);
  usePolling(loadRate, 5000);
  const data = rate.data;
  const counts = data?.buckets.map((b) => b.count) ?? [];
  const peak = Math.max(0, ...counts);
  return (
    <section className="card" aria-labelledby="rate-heading">
      <h2 id="rate-heading">Event rate</h2>
      <ProblemMessage problem={rate.status === 'failed' ? rate.problem : undefined} />
      {data !== undefined ? (
        <>
          <Sparkline
            values={counts}
            label={`Events per ${data.bucketSeconds} seconds over the last ${RATE_WINDOW_SECONDS / 60} minutes: ${data.total} in all, at most ${peak} in one interval`}
          />
          <p className="small muted">
            <strong>{data.total}</strong> events in the last {RATE_WINDOW_SECONDS / 60} minutes ·{' '}
            {data.perSecond}/s · peak {peak} per {data.bucketSeconds} s
          </p>
        </>
      ) : (
        <p className="muted">Loading…</p>
      )}
    </section>
  );
}

function OpenStreamForm() {
  const [streamId, setStreamId] = useState('');
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const id = streamId.trim();
    if (id !== '') commands.navigate({ name: 'stream', streamId: id, version: undefined });
  };
  return (
    <form onSubmit={onSubmit} className="card" aria-label="Open a stream">
      <h2>Open a stream</h2>
      <div className="field">
        <label htmlFor="stream-id">Stream id</label>
        <input
          id="stream-id"
          value={streamId}
          onChange={(e) => setStreamId(e.target.value)}
          placeholder="order-0190…"
          spellCheck={false}
        />
      </div>
      <button type="submit" disabled={streamId.trim() === ''}>
        Open
      </button>
    </form>
  );
}

function Subscriptions() {
  const subscriptions = useAppState((s) => s.explorer.subscriptions);
  usePolling(loadSubscriptions, 2000);
  const list = subscriptions.data;
  return (
    <section className="card" aria-labelledby="subs-heading">
      <h2 id="subs-heading">Subscriptions</h2>
      <ProblemMessage
        problem={subscriptions.status === 'failed' ? subscriptions.problem : undefined}
      />
      {list === undefined ? (
        <p className="muted">Loading…</p>
      ) : list.subscriptions.length === 0 ? (
        <p className="muted">No projections, publishers or subscriptions run in this process.</p>
      ) : (
        <div className="table-scroll">
          <table className="subscriptions">
            <caption className="small muted">Head of the log: position {list.head}</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Kind</th>
                <th scope="col">State</th>
                <th scope="col" className="num">
                  Position
                </th>
                <th scope="col" className="num">
                  Lag
                </th>
                <th scope="col" className="num">
                  Processed
                </th>
                <th scope="col" className="num">
                  Parked
                </th>
              </tr>
            </thead>
            <tbody>
              {list.subscriptions.map((s) => (
                <tr key={`${s.kind}:${s.name}`} data-lag={s.lag}>
                  <th scope="row">{s.name}</th>
                  <td>{s.kind}</td>
                  <td>
                    <span className={`badge state-${s.state}`} title={s.error}>
                      {s.state}
                    </span>
                  </td>
                  <td className="num">{s.position}</td>
                  <td className="num">
                    <span className={s.lag > 0 ? 'lagging' : undefined}>{s.lag}</span>
                    <meter
                      min={0}
                      max={Math.max(1, s.head)}
                      value={Math.max(0, s.head - s.lag)}
                      aria-label={`${s.name} has handled ${s.head - s.lag} of ${s.head}`}
                    />
                  </td>
                  <td className="num">{s.processed}</td>
                  <td className={`num${s.parked > 0 ? ' warn' : ''}`}>{s.parked}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function LiveTail() {
  const live = useAppState((s) => s.explorer.live);
  const [filter, setFilter] = useState('');
  const needle = filter.trim().toLowerCase();
  const events =
    needle === ''
      ? live.events
      : live.events.filter(
          (e) => e.type.toLowerCase().includes(needle) || e.streamId.toLowerCase().includes(needle),
        );
  return (
    <section className="card live-tail" aria-labelledby="live-heading">
      <div className="heading-row">
        <h2 id="live-heading">Live events</h2>
        <LiveBadge status={live.status} />
      </div>
      <ProblemMessage problem={live.problem} />
      <div className="field inline">
        <label htmlFor="event-filter">Filter</label>
        <input
          id="event-filter"
          type="search"
          value={filter}
          onChange={(e) => setFilter(e.target.value)}
          placeholder="type or stream"
        />
      </div>
      {events.length === 0 ? (
        <p className="muted">
          {live.status === 'open' ? 'Waiting for events…' : 'No events to show yet.'}
        </p>
      ) : (
        <div className="table-scroll">
          <table className="events">
            <thead>
              <tr>
                <th scope="col" className="num">
                  Position
                </th>
                <th scope="col">Type</th>
                <th scope="col">Stream</th>
                <th scope="col" className="num">
                  Version
                </th>
                <th scope="col">Recorded</th>
              </tr>
            </thead>
            <tbody aria-live="polite" aria-relevant="additions">
              {events.map((e) => (
                <tr key={e.position} data-event-type={e.type}>
                  <td className="num">{e.position}</td>
                  <td>
                    <Link
                      to={{ name: 'stream', streamId: e.streamId, version: e.version }}
                      className={`event-type cat-${streamCategory(e.streamId)}`}
                    >
                      {e.type}
                    </Link>
                  </td>
                  <td>
                    <Link
                      to={{ name: 'stream', streamId: e.streamId, version: undefined }}
                      className="stream-id"
                      title={e.streamId}
                    >
                      {e.streamId}
                    </Link>
                  </td>
                  <td className="num">{e.version}</td>
                  <td>
                    <RelativeTime iso={e.recordedAt} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/** The event explorer: live tail, subscription lag, event rate; a stream opens its history. */
export function ExplorerView() {
  useLiveTail();
  return (
    <div className="explorer">
      <h1>Event explorer</h1>
      <ExplorerTabs current="events" />
      <div className="explorer-top">
        <EventRateCard />
        <OpenStreamForm />
      </div>
      <Subscriptions />
      <LiveTail />
    </div>
  );
}
