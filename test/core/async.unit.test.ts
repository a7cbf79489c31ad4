import { describe, expect, it } from 'vitest';
import { deferred, PositionWaiters, WaitList, withTimeout } from '../../src/core/async.js';

describe('position waiters', () => {
  it('resolve the callers whose position is reached, and keep the others waiting', async () => {
    const waiters = new PositionWaiters();
    const settled: number[] = [];
    const early = waiters.wait(3, 60_000, () => new Error('late')).then(() => settled.push(3));
    const later = waiters.wait(8, 60_000, () => new Error('late')).then(() => settled.push(8));
    waiters.reached(5);
    await early;
    expect(settled).toEqual([3]);
    waiters.reached(8);
    await later;
    expect(settled).toEqual([3, 8]);
  });

  it('reject with the caller-built error on timeout, and everyone on failAll', async () => {
    const waiters = new PositionWaiters();
    await expect(waiters.wait(1, 1, () => new Error('not within 1 ms'))).rejects.toThrow(
      'not within 1 ms',
    );
    const pending = waiters.wait(2, 60_000, () => new Error('late'));
    waiters.failAll('store closed');
    await expect(pending).rejects.toThrow('store closed');
  });
});

describe('wait list', () => {
  it('wakes every waiter at once, and only those waiting then', async () => {
    const list = new WaitList();
    const woken: string[] = [];
    const a = list.wait().then(() => woken.push('a'));
    const b = list.wait().then(() => woken.push('b'));
    expect(list.size).toBe(2);
    list.releaseAll();
    await Promise.all([a, b]);
    expect(woken).toEqual(['a', 'b']);
    expect(list.size).toBe(0);
  });
});

describe('deferred', () => {
  it('settles from outside, and a rejection nobody awaits stays quiet until awaited', async () => {
    const ready = deferred<number>();
    ready.resolve(7);
    await expect(ready.promise).resolves.toBe(7);
    const started = deferred();
    started.reject(new Error('stopped before it started'));
    await expect(started.promise).rejects.toThrow('stopped before it started');
  });
});

describe('withTimeout', () => {
  it('gives the promise its answer when it settles in time', async () => {
    await expect(withTimeout(Promise.resolve('ok'), 60_000, () => 'late')).resolves.toBe('ok');
  });

  it('answers with onTimeout, or its error, once the time is up', async () => {
    const never = new Promise<string>(() => undefined);
    await expect(withTimeout(never, 1, () => 'late')).resolves.toBe('late');
    await expect(
      withTimeout(never, 1, () => {
        throw new Error('no answer within 1 ms');
      }),
    ).rejects.toThrow('no answer within 1 ms');
  });
});
