/**
 * The workflow timer index, written once and run against every document store it may live in
 * (memory, SQLite, MongoDB): due timers come earliest first, removal is by schedule id, and
 * what was stored is there after the store is opened again.
 */
import { describe, expect, it } from 'vitest';
import type { DocumentStore } from '../../src/core/readModel.js';
import { createWorkflowTimerIndex, type DueTimer } from '../../src/core/workflowTimers.js';

export interface WorkflowTimerIndexHarness {
  /** A fresh, empty document store, and a way to open the same data again (a restart). */
  create(): Promise<{ documents: DocumentStore; reopen?: () => Promise<DocumentStore> }>;
  skip?: boolean;
}

const T0 = Date.parse('2030-01-01T00:00:00Z');
const timer = (scheduleId: string, dueInMs: number, extra: Partial<DueTimer> = {}): DueTimer => ({
  workflow: 'payment',
  instanceId: 'o1',
  timerId: `t-${scheduleId}`,
  scheduleId,
  dueAt: new Date(T0 + dueInMs),
  ...extra,
});

export function workflowTimerIndexContract(name: string, harness: WorkflowTimerIndexHarness): void {
  describe.skipIf(harness.skip === true)(`workflow timer index on ${name}`, () => {
    it('answers the due timers of a workflow earliest first, and only those due', async () => {
      const index = createWorkflowTimerIndex((await harness.create()).documents);
      await index.put(timer('c', 3000));
      await index.put(timer('a', 1000));
      await index.put(timer('b', 2000, { instanceId: 'o2' }));
      await index.put(timer('x', 0, { workflow: 'shipping' }));

      const due = await index.due('payment', new Date(T0 + 2000), 10);
      expect(due.map((t) => t.scheduleId)).toEqual(['a', 'b']);
      expect(due[1]).toEqual(timer('b', 2000, { instanceId: 'o2' }));
      expect((await index.due('payment', new Date(T0 + 5000), 1)).map((t) => t.scheduleId)).toEqual(
        ['a'],
      );
      expect((await index.next('payment'))?.scheduleId).toBe('a');
      expect((await index.list('payment', 'o1')).map((t) => t.scheduleId)).toEqual(['a', 'c']);
    });

    it('forgets a removed timer, and removing an unknown one is harmless', async () => {
      const index = createWorkflowTimerIndex((await harness.create()).documents);
      await index.put(timer('a', 1000));
      await index.remove('a');
      await index.remove('never-there');
      expect(await index.list('payment')).toEqual([]);
      expect(await index.next('payment')).toBeUndefined();
    });

    it('keeps one entry per schedule id when the same schedule is put again', async () => {
      const index = createWorkflowTimerIndex((await harness.create()).documents);
      await index.put(timer('a', 1000));
      await index.put(timer('a', 1000));
      expect(await index.list('payment')).toHaveLength(1);
    });

    it('still has its timers after the store is opened again', async () => {
      const { documents, reopen } = await harness.create();
      if (reopen === undefined) return;
      await createWorkflowTimerIndex(documents).put(timer('a', 1000));
      const again = createWorkflowTimerIndex(await reopen());
      expect(await again.due('payment', new Date(T0 + 1000), 10)).toEqual([timer('a', 1000)]);
    });
  });
}
