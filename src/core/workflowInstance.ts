import type { DomainEvent } from './decider.js';
import { ValidationError } from './errors.js';
import { idempotentEventId } from './idempotentEventId.js';
import type { EventData, EventMetadata } from './types.js';
import { describe } from './validation.js';
import {
  workflowStreamId,
  type Workflow,
  type WorkflowInput,
  type WorkflowInputSource,
  type WorkflowOutput,
  type WorkflowTimer,
} from './workflow.js';

/** The event types a workflow writes to its instance streams. */
export const WORKFLOW_RECORD_TYPES = {
  input: 'WorkflowInputReceived',
  command: 'WorkflowCommandIssued',
  event: 'WorkflowEventEmitted',
  scheduled: 'WorkflowTimerScheduled',
  cancelled: 'WorkflowTimerCancelled',
} as const;

/**
 * One record of an instance stream, as the explorer and `readWorkflowInstance` show it. Every
 * record names the input that caused it (`inputId`); the record's own id is derived from the
 * input's id, so recording the same input twice writes nothing.
 */
export type WorkflowRecord =
  | {
      kind: 'input';
      id: string;
      inputId: string;
      type: string;
      data: unknown;
      metadata: EventMetadata;
      source: WorkflowInputSource;
    }
  | {
      kind: 'command';
      /** The command's id: the idempotency key its handler gets. */
      id: string;
      inputId: string;
      type: string;
      data: unknown;
      target?: string;
      metadata?: EventMetadata;
    }
  | {
      kind: 'event';
      id: string;
      inputId: string;
      /** The id of the event appended to `stream`. */
      eventId: string;
      stream: string;
      type: string;
      data: unknown;
      metadata?: EventMetadata;
    }
  | {
      kind: 'schedule';
      /** The schedule id: a rescheduled timer gets a new one. */
      id: string;
      inputId: string;
      timerId: string;
      dueAt: string;
      message: DomainEvent;
    }
  | { kind: 'cancel'; id: string; inputId: string; timerId: string; scheduleId: string };

const KIND_BY_TYPE: Record<string, WorkflowRecord['kind']> = {
  [WORKFLOW_RECORD_TYPES.input]: 'input',
  [WORKFLOW_RECORD_TYPES.command]: 'command',
  [WORKFLOW_RECORD_TYPES.event]: 'event',
  [WORKFLOW_RECORD_TYPES.scheduled]: 'schedule',
  [WORKFLOW_RECORD_TYPES.cancelled]: 'cancel',
};

/** An instance folded from its stream: state, pending timers and what each input caused. */
export interface InstanceFold<State, Input extends DomainEvent = DomainEvent> {
  streamId: string;
  instanceId: string;
  state: State;
  /** Stream version the fold includes (0: no input handled yet). */
  version: number;
  timers: Map<string, WorkflowTimer<Input>>;
  /** Records by the input that caused them (the input's own record first), in stream order. */
  handled: Map<string, WorkflowRecord[]>;
}

export function emptyFold<State, Input extends DomainEvent>(
  workflow: Workflow<State, Input, DomainEvent, DomainEvent>,
  instanceId: string,
): InstanceFold<State, Input> {
  return {
    streamId: workflowStreamId(workflow.name, instanceId),
    instanceId,
    state: workflow.initialState(),
    version: 0,
    timers: new Map(),
    handled: new Map(),
  };
}

/** Reads one stored event of an instance stream as a record (`undefined`: not a workflow record). */
export function toWorkflowRecord(event: {
  id: string;
  type: string;
  data: unknown;
}): WorkflowRecord | undefined {
  const kind = KIND_BY_TYPE[event.type];
  if (kind === undefined) return undefined;
  return { ...(event.data as object), kind, id: event.id } as WorkflowRecord;
}

export function inputOf<Input extends DomainEvent>(
  record: Extract<WorkflowRecord, { kind: 'input' }>,
): WorkflowInput<Input> {
  return {
    id: record.inputId,
    type: record.type,
    data: record.data,
    metadata: record.metadata,
    source: record.source,
  } as WorkflowInput<Input>;
}

/** Folds one record into the instance (mutating it). */
export function applyRecord<State, Input extends DomainEvent>(
  workflow: Workflow<State, Input, DomainEvent, DomainEvent>,
  fold: InstanceFold<State, Input>,
  record: WorkflowRecord,
): void {
  const list = fold.handled.get(record.inputId);
  if (list === undefined) fold.handled.set(record.inputId, [record]);
  else list.push(record);
  switch (record.kind) {
    case 'input': {
      const { source } = record;
      if (
        source.kind === 'timer' &&
        fold.timers.get(source.timerId)?.scheduleId === source.scheduleId
      )
        fold.timers.delete(source.timerId);
      fold.state = workflow.evolve(fold.state, inputOf(record));
      return;
    }
    case 'schedule':
      fold.timers.set(record.timerId, {
        timerId: record.timerId,
        scheduleId: record.id,
        dueAt: new Date(record.dueAt),
        message: record.message as Input,
      });
      return;
    case 'cancel':
      if (fold.timers.get(record.timerId)?.scheduleId === record.scheduleId)
        fold.timers.delete(record.timerId);
      return;
    default:
      return;
  }
}

/** The id of the `index`-th record an input causes in an instance stream (0: the input itself). */
export function recordId(streamId: string, inputId: string, index: number): string {
  return idempotentEventId(streamId, inputId, index);
}

/** The input id a timer's firing gets: one per schedule, so a double firing is one input. */
export function timerInputId(streamId: string, scheduleId: string): string {
  return idempotentEventId(streamId, `timer:${scheduleId}`, 0);
}

/** Whether `inputId` was already handled by this instance (its own record is there). */
export function wasHandled(fold: InstanceFold<unknown>, inputId: string): boolean {
  const first = fold.handled.get(inputId)?.[0];
  return first?.kind === 'input' && first.id === recordId(fold.streamId, inputId, 0);
}

/**
 * Runs `decide` for one input on the folded instance and returns the records to append: the
 * input first, then each output, with ids derived from the input's id. Outputs are checked
 * here, so a malformed one fails before anything is recorded.
 */
export async function decideRecords<State, Input extends DomainEvent>(
  workflow: Workflow<State, Input, DomainEvent, DomainEvent>,
  fold: InstanceFold<State, Input>,
  input: WorkflowInput<Input>,
  now: Date,
): Promise<EventData[]> {
  const { streamId } = fold;
  const records: EventData[] = [];
  const add = (type: string, data: Record<string, unknown>): string => {
    const id = recordId(streamId, input.id, records.length);
    records.push({ id, type, data: withoutUndefined(data), metadata: { causationId: input.id } });
    return id;
  };
  add(WORKFLOW_RECORD_TYPES.input, {
    inputId: input.id,
    type: input.type,
    data: workflow.recordedData === undefined ? input.data : workflow.recordedData(input),
    metadata: input.metadata,
    source: input.source,
  });
  const pending = new Map(fold.timers);
  if (input.source.kind === 'timer') pending.delete(input.source.timerId);

  const outputs: unknown = await workflow.decide(input, fold.state, {
    instanceId: fold.instanceId,
    now,
    timers: new Map(pending),
  });
  const path = `workflow '${workflow.name}' decide(${input.type})`;
  if (!Array.isArray(outputs)) {
    throw new ValidationError(path, `must return an array of outputs; got ${describe(outputs)}`);
  }
  const cancel = (timerId: string, inputId: string): void => {
    const timer = pending.get(timerId);
    if (timer === undefined) return;
    add(WORKFLOW_RECORD_TYPES.cancelled, { inputId, timerId, scheduleId: timer.scheduleId });
    pending.delete(timerId);
  };
  (outputs as unknown[]).forEach((raw, i) => {
    const output = checkOutput(raw, `${path}[${i}]`, now);
    switch (output.kind) {
      case 'command':
        add(WORKFLOW_RECORD_TYPES.command, {
          inputId: input.id,
          type: output.type,
          data: output.data,
          target: output.target,
          metadata: output.metadata,
        });
        return;
      case 'event': {
        const id = recordId(streamId, input.id, records.length);
        add(WORKFLOW_RECORD_TYPES.event, {
          inputId: input.id,
          eventId: idempotentEventId(output.stream, id, 0),
          stream: output.stream,
          type: output.type,
          data: output.data,
          metadata: output.metadata,
        });
        return;
      }
      case 'schedule': {
        cancel(output.timerId, input.id);
        const scheduleId = add(WORKFLOW_RECORD_TYPES.scheduled, {
          inputId: input.id,
          timerId: output.timerId,
          dueAt: output.dueAt.toISOString(),
          message: { type: output.message.type, data: output.message.data },
        });
        pending.set(output.timerId, {
          timerId: output.timerId,
          scheduleId,
          dueAt: output.dueAt,
          message: output.message as Input,
        });
        return;
      }
      case 'cancel':
        cancel(output.timerId, input.id);
        return;
    }
  });
  return records;
}

type CheckedOutput =
  | { kind: 'command'; type: string; data: unknown; target?: string; metadata?: EventMetadata }
  | { kind: 'event'; stream: string; type: string; data: unknown; metadata?: EventMetadata }
  | { kind: 'schedule'; timerId: string; dueAt: Date; message: DomainEvent }
  | { kind: 'cancel'; timerId: string };

function checkOutput(raw: unknown, path: string, now: Date): CheckedOutput {
  if (typeof raw !== 'object' || raw === null) {
    throw new ValidationError(
      path,
      `must be an output object ({ kind, ... }); got ${describe(raw)}`,
    );
  }
  const o = raw as Record<string, unknown> & WorkflowOutput;
  const text = (value: unknown, field: string, what: string): string => {
    if (typeof value !== 'string' || value.length === 0) {
      throw new ValidationError(`${path}.${field}`, `must be ${what}; got ${describe(value)}`);
    }
    return value;
  };
  const metadata = (value: unknown): EventMetadata | undefined => {
    if (value === undefined) return undefined;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new ValidationError(`${path}.metadata`, `must be an object; got ${describe(value)}`);
    }
    return value as EventMetadata;
  };
  switch (o.kind) {
    case 'command':
      return {
        kind: 'command',
        type: text(o.type, 'type', 'the command type (a non-empty string)'),
        data: o.data,
        target: o.target === undefined ? undefined : text(o.target, 'target', 'a non-empty string'),
        metadata: metadata(o.metadata),
      };
    case 'event':
      return {
        kind: 'event',
        stream: text(o.stream, 'stream', 'the stream to append the event to'),
        type: text(o.type, 'type', 'the event type (a non-empty string)'),
        data: o.data,
        metadata: metadata(o.metadata),
      };
    case 'schedule': {
      const timerId = text(o.timerId, 'timerId', 'the timer id (a non-empty string)');
      const message = o.message as unknown;
      if (typeof message !== 'object' || message === null) {
        throw new ValidationError(
          `${path}.message`,
          `must be the input to deliver when the timer fires ({ type, data }); got ${describe(message)}`,
        );
      }
      text((message as { type?: unknown }).type, 'message.type', 'an event type');
      return {
        kind: 'schedule',
        timerId,
        dueAt: dueAt(o, path, now),
        message: message as DomainEvent,
      };
    }
    case 'cancel':
      return { kind: 'cancel', timerId: text(o.timerId, 'timerId', 'the timer id to cancel') };
    default:
      throw new ValidationError(
        `${path}.kind`,
        `must be 'command', 'event', 'schedule' or 'cancel'; got ${describe((o as { kind?: unknown }).kind)}`,
      );
  }
}

function dueAt(o: Record<string, unknown>, path: string, now: Date): Date {
  const hasAt = o.at !== undefined;
  const hasAfter = o.afterMs !== undefined;
  if (hasAt === hasAfter) {
    throw new ValidationError(
      path,
      `a schedule needs exactly one of 'at' (a Date or ISO string) and 'afterMs' (ms after now)`,
    );
  }
  if (hasAfter) {
    const ms = o.afterMs;
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
      throw new ValidationError(
        `${path}.afterMs`,
        `must be a number of ms >= 0; got ${describe(ms)}`,
      );
    }
    return new Date(now.getTime() + ms);
  }
  const at = o.at instanceof Date ? o.at : typeof o.at === 'string' ? new Date(o.at) : undefined;
  if (at === undefined || Number.isNaN(at.getTime())) {
    throw new ValidationError(
      `${path}.at`,
      `must be a Date or an ISO date string; got ${describe(o.at)}`,
    );
  }
  return at;
}

function withoutUndefined(data: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(data).filter(([, v]) => v !== undefined));
}
