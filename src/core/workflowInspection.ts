import type { DomainEvent } from './decider.js';
import type { Projection } from './readModel.js';
import type { EventStore } from './types.js';
import type { Workflow, WorkflowTimer } from './workflow.js';
import {
  applyRecord,
  emptyFold,
  toWorkflowRecord,
  WORKFLOW_RECORD_TYPES,
  type WorkflowRecord,
} from './workflowInstance.js';

/** One handled input and what it caused, for the explorer. */
export interface WorkflowInputHistory {
  input: Extract<WorkflowRecord, { kind: 'input' }>;
  /** When the input was recorded, and where in the store's global log. */
  recordedAt: Date;
  position: number;
  /** The commands, events, schedules and cancels the input caused, in order. */
  outputs: Exclude<WorkflowRecord, { kind: 'input' }>[];
}

export interface WorkflowInstanceView<State, Input extends DomainEvent = DomainEvent> {
  workflow: string;
  instanceId: string;
  streamId: string;
  /** The instance stream's version (0: no input handled yet). */
  version: number;
  state: State;
  /** Pending timers, earliest first. */
  timers: WorkflowTimer<Input>[];
  /** Every handled input, oldest first. */
  inputs: WorkflowInputHistory[];
}

/**
 * Reads one workflow instance from its stream: its state, pending timers and what each input
 * caused. What the explorer shows; also handy in tests.
 *
 * @example
 * const view = await readWorkflowInstance(store, payment, 'order-42');
 * view.timers; // [{ timerId: 'timeout', dueAt, … }]
 * view.inputs.map((i) => [i.input.type, i.outputs.map((o) => o.kind)]);
 */
export async function readWorkflowInstance<State, Input extends DomainEvent>(
  store: Pick<EventStore, 'readStream'>,
  workflow: Workflow<State, Input, DomainEvent, DomainEvent>,
  instanceId: string,
): Promise<WorkflowInstanceView<State, Input>> {
  const fold = emptyFold(workflow, instanceId);
  const inputs: WorkflowInputHistory[] = [];
  const byInput = new Map<string, WorkflowInputHistory>();
  for (const event of await store.readStream(fold.streamId)) {
    fold.version = event.version;
    const record = toWorkflowRecord(event);
    if (record === undefined) continue;
    applyRecord(workflow, fold, record);
    if (record.kind === 'input') {
      const entry = {
        input: record,
        recordedAt: event.recordedAt,
        position: event.position,
        outputs: [],
      };
      inputs.push(entry);
      byInput.set(record.inputId, entry);
    } else {
      byInput.get(record.inputId)?.outputs.push(record);
    }
  }
  return {
    workflow: workflow.name,
    instanceId,
    streamId: fold.streamId,
    version: fold.version,
    state: fold.state,
    timers: [...fold.timers.values()].sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime()),
    inputs,
  };
}

/** The read-model collection `workflowInstancesProjection` writes. */
export const WORKFLOW_INSTANCES_COLLECTION = 'eventloom_workflow_instances';

/** One workflow instance as the instances projection lists it. */
export interface WorkflowInstanceSummary {
  [key: string]: unknown;
  workflow: string;
  instanceId: string;
  streamId: string;
  /** Inputs handled (timer firings included). */
  inputs: number;
  lastInputType: string;
  /** ISO time the last input was recorded. */
  updatedAt: string;
}

/** The workflow name and instance id of an instance stream id, or `undefined` for another stream. */
export function parseWorkflowStreamId(
  streamId: string,
): { workflow: string; instanceId: string } | undefined {
  const match = /^workflow-([A-Za-z0-9_.]+)-(.+)$/.exec(streamId);
  return match === null
    ? undefined
    : { workflow: match[1] as string, instanceId: match[2] as string };
}

/**
 * A projection listing every workflow instance (document id: the instance stream id), for the
 * explorer's instance list: run it with `startProjection`, then
 * `documents.find(WORKFLOW_INSTANCES_COLLECTION, { workflow: 'payment' }, { sort: { field: 'updatedAt', direction: 'desc' } })`.
 *
 * @example
 * startProjection({ store, projection: workflowInstancesProjection(), target });
 */
export function workflowInstancesProjection(name = 'eventloom-workflow-instances'): Projection {
  return {
    name,
    collections: [WORKFLOW_INSTANCES_COLLECTION],
    eventTypes: [WORKFLOW_RECORD_TYPES.input],
    async handle(event, docs) {
      const parsed = parseWorkflowStreamId(event.streamId);
      if (parsed === undefined) return;
      const before = await docs.get<WorkflowInstanceSummary>(
        WORKFLOW_INSTANCES_COLLECTION,
        event.streamId,
      );
      const summary: WorkflowInstanceSummary = {
        ...parsed,
        streamId: event.streamId,
        inputs: (before?.inputs ?? 0) + 1,
        lastInputType: (event.data as { type?: string }).type ?? '',
        updatedAt: event.recordedAt.toISOString(),
      };
      await docs.put(WORKFLOW_INSTANCES_COLLECTION, event.streamId, summary);
    },
  };
}
