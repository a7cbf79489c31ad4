import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Problem, StoredEvent } from '../src/api/types.ts';
import { openLiveTail } from '../src/lib/liveTail.ts';
import type { LiveStatus } from '../src/store/appState.ts';

/** A stand-in for the browser's EventSource that the test drives. */
class FakeEventSource extends EventTarget {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSED = 2;
  static opened: FakeEventSource[] = [];
  readyState = FakeEventSource.CONNECTING;
  closed = false;

  constructor(readonly url: string) {
    super();
    FakeEventSource.opened.push(this);
  }

  close(): void {
    this.closed = true;
    this.readyState = FakeEventSource.CLOSED;
  }

  ready(): void {
    this.readyState = FakeEventSource.OPEN;
    this.dispatchEvent(new Event('ready'));
  }

  send(position: number): void {
    const event: Partial<StoredEvent> = { position, type: 'TweetPosted', streamId: 'tweet-1' };
    this.dispatchEvent(
      new MessageEvent('message', { data: JSON.stringify(event), lastEventId: String(position) }),
    );
  }

  fail(readyState: number): void {
    this.readyState = readyState;
    this.dispatchEvent(new Event('error'));
  }
}

function tail(
  from: number | undefined,
  diagnose: () => Promise<Problem | undefined> = async () => undefined,
) {
  const received: number[][] = [];
  const statuses: LiveStatus[] = [];
  const live = openLiveTail({
    from,
    url: (at) => `/live${at === undefined ? '' : `?from=${at}`}`,
    onEvents: (events) => received.push(events.map((e) => e.position)),
    onStatus: (status) => statuses.push(status),
    diagnose,
    batchMs: 50,
    EventSource: FakeEventSource as unknown as typeof EventSource,
  });
  return { live, received, statuses };
}

const latest = () => FakeEventSource.opened[FakeEventSource.opened.length - 1]!;

describe('the live tail', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    FakeEventSource.opened = [];
  });
  afterEach(() => vi.useRealTimers());

  it('hands events over in batches, each once, in order', async () => {
    const { received, statuses } = tail(10);
    expect(latest().url).toBe('/live?from=10');
    latest().ready();
    latest().send(10);
    latest().send(11);
    latest().send(11);
    latest().send(9);
    await vi.advanceTimersByTimeAsync(60);
    latest().send(12);
    await vi.advanceTimersByTimeAsync(60);
    expect(received).toEqual([[10, 11], [12]]);
    expect(statuses).toEqual(['connecting', 'open']);
  });

  it('leaves a dropped connection to the browser, which resumes with Last-Event-ID', async () => {
    const { statuses } = tail(undefined);
    latest().ready();
    latest().fail(FakeEventSource.CONNECTING);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeEventSource.opened).toHaveLength(1);
    expect(statuses).toEqual(['connecting', 'open', 'reconnecting']);
    latest().ready();
    expect(statuses.at(-1)).toBe('open');
  });

  it('opens a new connection after a refused one, from the event after the last one received', async () => {
    const { statuses } = tail(undefined);
    expect(latest().url).toBe('/live');
    latest().ready();
    latest().send(41);
    latest().fail(FakeEventSource.CLOSED);
    expect(statuses.at(-1)).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(999);
    expect(FakeEventSource.opened).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(FakeEventSource.opened).toHaveLength(2);
    expect(latest().url).toBe('/live?from=42');
    // Backs off further while the server keeps refusing.
    latest().fail(FakeEventSource.CLOSED);
    await vi.advanceTimersByTimeAsync(1999);
    expect(FakeEventSource.opened).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(FakeEventSource.opened).toHaveLength(3);
  });

  it('stops with the problem when the server refuses for good (not logged in)', async () => {
    const problem: Problem = {
      type: 'urn:x',
      title: 'Unauthorized',
      status: 401,
      detail: 'Log in first',
    };
    const { statuses } = tail(5, async () => problem);
    latest().fail(FakeEventSource.CLOSED);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeEventSource.opened).toHaveLength(1);
    expect(statuses.at(-1)).toBe('closed');
  });

  it('closes the connection and drops pending events when closed', async () => {
    const { live, received, statuses } = tail(1);
    latest().send(1);
    live.close();
    await vi.advanceTimersByTimeAsync(100);
    expect(latest().closed).toBe(true);
    expect(received).toEqual([]);
    expect(statuses.at(-1)).toBe('idle');
  });
});
