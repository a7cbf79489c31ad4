import type { DocumentFilter, DocumentStore } from './readModel.js';

/** The read-model collection that indexes pending workflow timers by due time. */
export const WORKFLOW_TIMERS_COLLECTION = 'eventloom_workflow_timers';

/** A pending timer in the due-time index. */
export interface DueTimer {
  workflow: string;
  instanceId: string;
  timerId: string;
  /** The id of the schedule record in the instance stream (the index entry's id). */
  scheduleId: string;
  dueAt: Date;
}

/**
 * The due-time index of workflow timers, kept in any `DocumentStore` (memory, SQLite, MongoDB,
 * PostgreSQL), so it lasts as long as that store. It is an index, not the truth: the instance
 * stream decides whether a timer is still pending when it fires, so a stale entry (a timer
 * cancelled or fired just before a crash) fires into nothing and is removed.
 */
export interface WorkflowTimerIndex {
  put(timer: DueTimer): Promise<void>;
  remove(scheduleId: string): Promise<void>;
  /** The earliest timers of `workflow` due at or before `now`, earliest first. */
  due(workflow: string, now: Date, limit: number): Promise<DueTimer[]>;
  /** The earliest pending timer of `workflow` (due or not). */
  next(workflow: string): Promise<DueTimer | undefined>;
  /** Every pending timer of `workflow` (of one instance when given), earliest first. */
  list(workflow: string, instanceId?: string): Promise<DueTimer[]>;
}

interface TimerDocument {
  [key: string]: unknown;
  workflow: string;
  instanceId: string;
  timerId: string;
  scheduleId: string;
  dueAt: number;
}

/**
 * The timer index over a document store.
 *
 * @example
 * const timers = createWorkflowTimerIndex(store.documents.async);
 * await timers.list('payment'); // pending timers of the 'payment' workflow
 */
export function createWorkflowTimerIndex(documents: DocumentStore): WorkflowTimerIndex {
  const toTimer = (d: TimerDocument): DueTimer => ({
    workflow: d.workflow,
    instanceId: d.instanceId,
    timerId: d.timerId,
    scheduleId: d.scheduleId,
    dueAt: new Date(d.dueAt),
  });
  const earliest = async (
    workflow: string,
    limit: number | undefined,
    instanceId?: string,
  ): Promise<DueTimer[]> => {
    const filter: DocumentFilter =
      instanceId === undefined ? { workflow } : { workflow, instanceId };
    const docs = await documents.find<TimerDocument>(WORKFLOW_TIMERS_COLLECTION, filter, {
      sort: { field: 'dueAt', direction: 'asc' },
      ...(limit === undefined ? {} : { limit }),
    });
    return docs.map(toTimer);
  };
  return {
    async put(timer) {
      const doc: TimerDocument = {
        workflow: timer.workflow,
        instanceId: timer.instanceId,
        timerId: timer.timerId,
        scheduleId: timer.scheduleId,
        dueAt: timer.dueAt.getTime(),
      };
      await documents.put(WORKFLOW_TIMERS_COLLECTION, timer.scheduleId, doc);
    },
    remove: (scheduleId) => documents.delete(WORKFLOW_TIMERS_COLLECTION, scheduleId),
    async due(workflow, now, limit) {
      // Sorted by due time, so the due ones are a prefix: equality filters are all every
      // document store offers, and this needs no range query.
      const first = await earliest(workflow, limit);
      return first.filter((t) => t.dueAt.getTime() <= now.getTime());
    },
    async next(workflow) {
      return (await earliest(workflow, 1))[0];
    },
    list: (workflow, instanceId) => earliest(workflow, undefined, instanceId),
  };
}
