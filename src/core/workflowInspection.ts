import type { DomainEvent } from './decider.js';
import type { EventStore } from './types.js';
import type { Workflow, WorkflowTimer } from './workflow.js';
import {
  applyRecord,
  emptyFold,
  toWorkflowRecord,
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
