import type { DomainEvent } from '../core/decider.js';
import {
  checkProcessorOptions,
  createWorkflowProcessor,
  type WorkflowProcessorOptions,
} from '../core/workflowProcessor.js';
import {
  resolveTimerLoopOptions,
  startWorkflowTimerLoop,
  WORKFLOW_TIMER_KEYS,
  type WorkflowTimerFailure,
  type WorkflowTimerSettings,
} from '../core/workflowTimerLoop.js';
import {
  startKafkaConsumer,
  type KafkaConsumer,
  type KafkaConsumerNotice,
  type KafkaConsumerOptions,
  type KafkaConsumerStatus,
} from './index.js';

/**
 * Options of {@link runKafkaWorkflow}: the workflow processor's (store, workflow, commands,
 * timers, now) plus the consumer's (brokers or client, topics, retry, dead-letter topic, …).
 */
export type KafkaWorkflowOptions<
  State,
  Input extends DomainEvent = DomainEvent,
  Command extends DomainEvent = DomainEvent,
  Event extends DomainEvent = DomainEvent,
> = WorkflowProcessorOptions<State, Input, Command, Event> &
  Omit<KafkaConsumerOptions, 'handler' | 'eventTypes' | 'groupId' | 'onEvent'> &
  WorkflowTimerSettings & {
    /** Consumer group. Default `workflow-<name>`: every process of the group shares the inputs. */
    groupId?: string;
    onEvent?: (notice: KafkaConsumerNotice | WorkflowTimerFailure) => void;
  };

export interface KafkaWorkflowRunner {
  readonly workflow: string;
  readonly consumer: KafkaConsumer;
  /** Resolves when the consumer first got its partitions. */
  readonly ready: Promise<void>;
  status(): KafkaConsumerStatus;
  /** Fires the timers due now; resolves with how many fired. */
  fireDueTimers(): Promise<number>;
  /** Finishes the inputs in hand, commits, leaves the group, stops the timer loop. */
  stop(): Promise<void>;
  /** Settles when the consumer stops: rejects if it stopped on an error. */
  readonly done: Promise<void>;
}

const PROCESSOR_KEYS = ['store', 'workflow', 'commands', 'timers', 'now'] as const;

/**
 * Runs a workflow on a Kafka consumer group: the same definition as `runWorkflow`, with the
 * inputs read from `topics` across processes. The group commits an input's offset only once
 * its outputs are recorded (in `store`) and dispatched, so a process killed mid-way leaves the
 * input to the next member, which finds the record and re-dispatches. Every member also fires
 * due timers from the shared index; two members firing the same timer record it once.
 *
 * @example
 * const runner = runKafkaWorkflow({
 *   brokers: 'localhost:9092', topics: ['eventloom.shop'],
 *   store, workflow: payment, timers: mongoTarget.documents, commands,
 * });
 * await runner.ready;
 */
export function runKafkaWorkflow<
  State,
  Input extends DomainEvent,
  Command extends DomainEvent,
  Event extends DomainEvent,
>(options: KafkaWorkflowOptions<State, Input, Command, Event>): KafkaWorkflowRunner {
  const raw = options as unknown as Record<string, unknown>;
  checkProcessorOptions(raw, 'options');
  const loopOptions = resolveTimerLoopOptions(options, 'options', (failure) => emit(failure));
  const processor = createWorkflowProcessor(options);
  const rest = Object.fromEntries(
    Object.entries(raw).filter(
      ([key]) =>
        !(PROCESSOR_KEYS as readonly string[]).includes(key) &&
        !WORKFLOW_TIMER_KEYS.includes(key) &&
        key !== 'onEvent',
    ),
  ) as unknown as KafkaConsumerOptions;
  const emit = (notice: KafkaConsumerNotice | WorkflowTimerFailure): void => {
    try {
      options.onEvent?.(notice);
    } catch {
      // An observer must not break the runner.
    }
  };
  const consumer = startKafkaConsumer<DomainEvent>({
    ...rest,
    groupId: options.groupId ?? `workflow-${options.workflow.name}`,
    eventTypes: options.workflow.inputs,
    onEvent: emit,
    handler: async (event) => {
      await processor.handle(event);
    },
  });
  const timers = startWorkflowTimerLoop(processor, loopOptions);
  const done = consumer.done.finally(() => timers.stop());
  done.catch(() => undefined);
  return {
    workflow: options.workflow.name,
    consumer,
    ready: consumer.ready,
    done,
    status: () => consumer.status(),
    fireDueTimers: () => timers.fireDue(),
    async stop() {
      await Promise.all([consumer.stop(), timers.stop()]);
    },
  };
}
