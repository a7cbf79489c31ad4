import type { DomainEvent } from './decider.js';
import { inSpan } from './tracing.js';
import { errorMessage } from './async.js';
import {
  ConfigurationError,
  HandlerFailedError,
  isConcurrencyError,
  isIdempotencyConflictError,
  ValidationError,
} from './errors.js';
import { checkObject, checkPort } from './optionChecks.js';
import type { DocumentStore } from './readModel.js';
import type { EventMetadata, EventStore } from './types.js';
import { describe } from './validation.js';
import { checkWorkflow, workflowStreamId, type Workflow, type WorkflowInput } from './workflow.js';
import {
  applyRecord,
  decideRecords,
  emptyFold,
  type InstanceFold,
  timerInputId,
  toWorkflowRecord,
  wasHandled,
  type WorkflowRecord,
} from './workflowInstance.js';
import { createWorkflowTimerIndex, type DueTimer } from './workflowTimers.js';

/**
 * A command as a workflow's command handler gets it. `id` is derived from the input that
 * caused it: pass it as the command handler's `idempotencyKey`, so a re-dispatch (after a crash
 * between recording and dispatching, or a redelivered input) appends nothing new.
 */
export type WorkflowCommand<Command extends DomainEvent = DomainEvent> = Command & {
  id: string;
  target?: string;
  metadata: EventMetadata;
  workflow: string;
  instanceId: string;
  inputId: string;
};

/** Runs one command type. Throwing makes the runner retry the input (see the runner's `retry`). */
export type WorkflowCommandHandler<Command extends DomainEvent = DomainEvent> = (
  command: WorkflowCommand<Command>,
) => void | Promise<void>;

/** A handler per command type the workflow issues. */
export type WorkflowCommandHandlers<Command extends DomainEvent = DomainEvent> = {
  [T in Command['type']]: WorkflowCommandHandler<Extract<Command, { type: T }>>;
};

/** Reads the workflow's clock; injectable so tests move time instead of waiting. */
export type WorkflowClock = () => Date;

export interface WorkflowProcessorOptions<
  State,
  Input extends DomainEvent = DomainEvent,
  Command extends DomainEvent = DomainEvent,
  Event extends DomainEvent = DomainEvent,
> {
  /** Holds the instance streams; `event` outputs are appended to it too. */
  store: EventStore;
  workflow: Workflow<State, Input, Command, Event>;
  commands: NoInfer<WorkflowCommandHandlers<Command>>;
  /** Where the due-time index of timers lives (e.g. `store.documents.async`, a MongoDB target's `documents`). */
  timers: DocumentStore;
  /** Default `() => new Date()`. */
  now?: WorkflowClock;
}

/** An input as a transport delivers it: a store's `RecordedEvent` or a decoded Kafka message fits. */
export interface WorkflowInputEvent {
  id: string;
  type: string;
  data: unknown;
  metadata?: EventMetadata;
  streamId?: string;
  position?: number;
}

/**
 * - `ignored`: not an input type, or `instanceOf` returned `undefined`;
 * - `handled`: decided, recorded and dispatched;
 * - `redelivered`: recorded before, so nothing was decided; its recorded outputs were dispatched again;
 * - `stale`: a timer that was cancelled, rescheduled or fired already: nothing happened.
 */
export interface WorkflowHandleResult {
  outcome: 'ignored' | 'handled' | 'redelivered' | 'stale';
  instanceId?: string;
  /** The input's records (its own first, then its outputs); `[]` when ignored or stale. */
  records: WorkflowRecord[];
}

/**
 * The transport-free heart of a workflow runner: handles one input or the due timers. Used by
 * `runWorkflow` (store subscription) and `runKafkaWorkflow` (consumer group).
 */
export interface WorkflowProcessor {
  readonly workflow: string;
  handle(event: WorkflowInputEvent): Promise<WorkflowHandleResult>;
  /** Fires the timers due now (at most `limit`, default 100); resolves with how many fired. */
  fireDueTimers(limit?: number): Promise<number>;
  /** When the earliest pending timer is due, if any. */
  nextTimerDue(): Promise<Date | undefined>;
}

/** Attempts per input when other writers keep getting to the instance stream first. */
const MAX_CONFLICT_ATTEMPTS = 20;

/**
 * Creates the processor. Exactly-once effects come from recording before acting: an input and
 * the outputs it caused are appended to the instance stream in one append whose ids derive
 * from the input's id; only then are the outputs dispatched. A redelivered input finds its
 * record and re-dispatches the recorded outputs (never deciding again), so command handlers
 * that honour the derived id, and the idempotent appends of `event` outputs, act once.
 *
 * @example
 * const processor = createWorkflowProcessor({ store, workflow, commands, timers: store.documents.async });
 * await processor.handle(recordedEvent);
 * await processor.fireDueTimers();
 */
export function createWorkflowProcessor<
  State,
  Input extends DomainEvent,
  Command extends DomainEvent,
  Event extends DomainEvent,
>(options: WorkflowProcessorOptions<State, Input, Command, Event>): WorkflowProcessor {
  checkProcessorOptions(options as unknown as Record<string, unknown>, 'options');
  const { store } = options;
  const workflow = options.workflow as unknown as Workflow<State, Input, DomainEvent, DomainEvent>;
  const commands = options.commands as unknown as Record<string, WorkflowCommandHandler>;
  const index = createWorkflowTimerIndex(options.timers);
  const now = options.now ?? (() => new Date());
  const inputTypes = new Set<string>(workflow.inputs);
  const { name } = workflow;

  const load = async (instanceId: string): Promise<InstanceFold<State, Input>> => {
    const fold = emptyFold(workflow, instanceId);
    for (const event of await store.readStream(fold.streamId)) {
      const record = toWorkflowRecord(event);
      if (record !== undefined) applyRecord(workflow, fold, record);
      fold.version = event.version;
    }
    return fold;
  };

  const dispatch = async (
    fold: InstanceFold<State, Input>,
    records: readonly WorkflowRecord[],
  ): Promise<void> => {
    let firedSchedule: string | undefined;
    for (const record of records) {
      switch (record.kind) {
        case 'input':
          if (record.source.kind === 'timer') firedSchedule = record.source.scheduleId;
          break;
        case 'command': {
          const handler = commands[record.type];
          if (handler === undefined) {
            throw new ConfigurationError(
              `Workflow '${name}' issued command '${record.type}' but the runner has no handler for it; add commands: { ${record.type}: (command) => … }`,
              { details: { workflow: name, command: record.type } },
            );
          }
          await handler({
            type: record.type,
            data: record.data,
            id: record.id,
            ...(record.target === undefined ? {} : { target: record.target }),
            metadata: outputMetadata(fold, record),
            workflow: name,
            instanceId: fold.instanceId,
            inputId: record.inputId,
          });
          break;
        }
        case 'event':
          await store.appendToStream(
            record.stream,
            [
              {
                id: record.eventId,
                type: record.type,
                data: record.data,
                metadata: outputMetadata(fold, record),
              },
            ],
            { expectedVersion: 'any' },
          );
          break;
        case 'schedule': {
          // A schedule replaced or cancelled since (this is a re-dispatch) stays out of the index.
          const pending = fold.timers.get(record.timerId);
          if (pending?.scheduleId === record.id) {
            await index.put({
              workflow: name,
              instanceId: fold.instanceId,
              timerId: record.timerId,
              scheduleId: record.id,
              dueAt: pending.dueAt,
            });
          }
          break;
        }
        case 'cancel':
          await index.remove(record.scheduleId);
          break;
      }
    }
    // Last: until the fired timer's outputs are dispatched, its index entry makes it fire again.
    if (firedSchedule !== undefined) await index.remove(firedSchedule);
  };

  /** One workflow step, in a span: the input's handling, recorded and dispatched. */
  const process = (
    instanceId: string,
    inputId: string,
    inputFor: (fold: InstanceFold<State, Input>) => WorkflowInput<Input> | undefined,
  ): Promise<WorkflowHandleResult> =>
    inSpan(
      `workflow step ${name}`,
      {
        attributes: () => ({
          'eventloom.workflow.name': name,
          'eventloom.workflow.instance_id': instanceId,
          'eventloom.workflow.input_id': inputId,
        }),
      },
      async (span) => {
        const result = await step(instanceId, inputId, inputFor);
        if (span.isRecording()) {
          span.setAttributes({
            'eventloom.workflow.outcome': result.outcome,
            'eventloom.workflow.records': result.records.length,
          });
        }
        return result;
      },
    );

  const step = async (
    instanceId: string,
    inputId: string,
    inputFor: (fold: InstanceFold<State, Input>) => WorkflowInput<Input> | undefined,
  ): Promise<WorkflowHandleResult> => {
    for (let attempt = 1; ; attempt++) {
      const fold = await load(instanceId);
      if (wasHandled(fold, inputId)) {
        const records = fold.handled.get(inputId) ?? [];
        await dispatch(fold, records);
        return { outcome: 'redelivered', instanceId, records };
      }
      const input = inputFor(fold);
      if (input === undefined) return { outcome: 'stale', instanceId, records: [] };
      const events = await decideRecords(workflow, fold, input, now());
      try {
        await store.appendToStream(fold.streamId, events, {
          expectedVersion: fold.version === 0 ? 'no_stream' : fold.version,
        });
      } catch (error) {
        // Another writer recorded something first (maybe this very input): decide again on
        // what is there now.
        const raced = isConcurrencyError(error) || isIdempotencyConflictError(error);
        if (raced && attempt < MAX_CONFLICT_ATTEMPTS) continue;
        throw error;
      }
      const records = events.map((e) => toWorkflowRecord(e as never) as WorkflowRecord);
      for (const record of records) applyRecord(workflow, fold, record);
      await dispatch(fold, records);
      return { outcome: 'handled', instanceId, records };
    }
  };

  const fire = async (timer: DueTimer): Promise<WorkflowHandleResult> => {
    const streamId = workflowStreamId(name, timer.instanceId);
    const inputId = timerInputId(streamId, timer.scheduleId);
    const result = await process(timer.instanceId, inputId, (fold) => {
      const pending = fold.timers.get(timer.timerId);
      if (pending?.scheduleId !== timer.scheduleId) return undefined;
      return {
        id: inputId,
        type: pending.message.type,
        data: pending.message.data,
        metadata: {},
        source: { kind: 'timer', timerId: timer.timerId, scheduleId: timer.scheduleId },
      } as WorkflowInput<Input>;
    });
    if (result.outcome === 'stale') await index.remove(timer.scheduleId);
    return result;
  };

  return {
    workflow: name,
    async handle(event) {
      if (!inputTypes.has(event.type)) return { outcome: 'ignored', records: [] };
      const input = {
        id: event.id,
        type: event.type,
        data: event.data,
        metadata: event.metadata ?? {},
        source: {
          kind: 'event',
          streamId: event.streamId ?? '',
          ...(event.position === undefined ? {} : { position: event.position }),
        },
      } as WorkflowInput<Input>;
      const instanceId = workflow.instanceOf(input);
      if (instanceId === undefined) return { outcome: 'ignored', records: [] };
      if (typeof instanceId !== 'string' || instanceId.length === 0) {
        throw new ValidationError(
          `workflow '${name}' instanceOf(${event.type})`,
          `must return the instance id (a non-empty string) or undefined; got ${describe(instanceId)}`,
        );
      }
      return process(instanceId, event.id, () => input);
    },
    async fireDueTimers(limit = 100) {
      let fired = 0;
      const failed: { timer: DueTimer; error: unknown }[] = [];
      // Each timer on its own: one that keeps failing must not hold back the others.
      for (const timer of await index.due(name, now(), limit)) {
        try {
          const result = await fire(timer);
          if (result.outcome === 'handled') fired++;
        } catch (error) {
          failed.push({ timer, error });
        }
      }
      const first = failed[0];
      if (first !== undefined) {
        throw new HandlerFailedError(
          `Workflow '${name}': ${failed.length} due timer(s) failed to fire (${fired} fired); the first, '${first.timer.timerId}' of instance '${first.timer.instanceId}', failed with: ${errorMessage(first.error)}. They stay due and are retried`,
          {
            cause: first.error,
            details: {
              workflow: name,
              fired,
              failed: failed.map(({ timer }) => ({
                instanceId: timer.instanceId,
                timerId: timer.timerId,
                scheduleId: timer.scheduleId,
              })),
            },
          },
        );
      }
      return fired;
    },
    async nextTimerDue() {
      return (await index.next(name))?.dueAt;
    },
  };
}

function outputMetadata(
  fold: InstanceFold<unknown>,
  record: Extract<WorkflowRecord, { kind: 'command' | 'event' }>,
): EventMetadata {
  const input = fold.handled.get(record.inputId)?.[0];
  const inputMetadata = input?.kind === 'input' ? input.metadata : {};
  return {
    correlationId: inputMetadata.correlationId ?? fold.instanceId,
    causationId: record.inputId,
    ...(inputMetadata.traceparent === undefined ? {} : { traceparent: inputMetadata.traceparent }),
    ...record.metadata,
  };
}

const DOCUMENT_STORE_METHODS = ['get', 'find', 'put', 'delete'] as const;

/** Checks the options a processor and every runner share; `path` prefixes the error paths. */
export function checkProcessorOptions(options: Record<string, unknown>, path: string): void {
  checkObject(options, path, '{ store, workflow, commands, timers, ... }', true);
  checkWorkflow(options.workflow, `${path}.workflow`);
  checkPort(options.store, `${path}.store`, ['appendToStream', 'readStream']);
  checkPort(options.timers, `${path}.timers`, DOCUMENT_STORE_METHODS);
  checkObject(options.commands, `${path}.commands`, '{ [commandType]: (command) => … }', true);
  for (const [type, handler] of Object.entries(options.commands as Record<string, unknown>)) {
    if (typeof handler !== 'function') {
      throw new ValidationError(
        `${path}.commands.${type}`,
        `must be a function (command) => void | Promise<void>; got ${describe(handler)}`,
      );
    }
  }
  if (options.now !== undefined && typeof options.now !== 'function') {
    throw new ValidationError(
      `${path}.now`,
      `must be a function () => Date; got ${describe(options.now)}`,
    );
  }
}
