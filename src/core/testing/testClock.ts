/** A clock a test moves by hand: pass `clock.now` as a workflow runner's `now`. */
export interface TestClock {
  now(): Date;
  /** Moves the clock forward by `ms`. */
  advance(ms: number): void;
  /** Sets the clock to `at`. */
  set(at: Date | string): void;
}

/**
 * A manual clock for workflow runners and timers: time moves only when the test says so.
 *
 * @example
 * const clock = createTestClock('2030-01-01T00:00:00Z');
 * const runner = runWorkflow({ ...options, now: clock.now, autoFireTimers: false });
 * clock.advance(15 * 60_000);
 * await runner.fireDueTimers();
 */
export function createTestClock(start: Date | string = '2030-01-01T00:00:00Z'): TestClock {
  let t = new Date(start).getTime();
  return {
    now: () => new Date(t),
    advance: (ms) => {
      t += ms;
    },
    set: (at) => {
      t = new Date(at).getTime();
    },
  };
}
