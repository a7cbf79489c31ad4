import { type RecordedEvent, ValidationError, type WorkflowCommand } from '../core/index.js';
import { type KafkaEventMessage, toKafkaMessage } from '../kafka/index.js';

/** Where a command came from, carried in its message's metadata under this key. */
const ORIGIN = 'workflowCommand';

interface CommandOrigin {
  workflow: string;
  instanceId: string;
  inputId: string;
  target?: string;
}

/**
 * The message key of a command: the stream it acts on. The shop's commands all concern one
 * order, so they are keyed by its stream and one order's commands keep their order.
 */
function commandKey(command: WorkflowCommand): string {
  if (command.target !== undefined) return command.target;
  const data = command.data as { orderId?: unknown } | null;
  if (typeof data?.orderId === 'string') return `order-${data.orderId}`;
  return `${command.workflow}-${command.instanceId}`;
}

/**
 * A workflow's command as a Kafka message for the process that runs it: the event-shaped
 * JSON of the publisher (id = the command id, the receiver's idempotency key), key = the
 * stream it acts on, the correlation and causation ids in the headers.
 */
export function toCommandMessage(
  command: WorkflowCommand,
  topic: string,
  now: Date,
): KafkaEventMessage {
  const origin: CommandOrigin = {
    workflow: command.workflow,
    instanceId: command.instanceId,
    inputId: command.inputId,
    ...(command.target === undefined ? {} : { target: command.target }),
  };
  const event: RecordedEvent = {
    id: command.id,
    streamId: commandKey(command),
    type: command.type,
    data: command.data,
    metadata: { ...command.metadata, [ORIGIN]: origin },
    version: 0,
    position: 0,
    recordedAt: now,
  };
  return toKafkaMessage(event, topic);
}

/** The command back from its message (see {@link toCommandMessage}). */
export function fromCommandEvent(event: RecordedEvent): WorkflowCommand {
  const { [ORIGIN]: raw, ...metadata } = event.metadata;
  const origin = raw as Partial<CommandOrigin> | undefined;
  if (
    typeof origin?.workflow !== 'string' ||
    typeof origin.instanceId !== 'string' ||
    typeof origin.inputId !== 'string'
  ) {
    throw new ValidationError(
      `message.value.metadata.${ORIGIN}`,
      `must name the workflow, instanceId and inputId of command ${event.type} (${event.id}); was it sent by an eventloom worker?`,
    );
  }
  return {
    type: event.type,
    data: event.data,
    id: event.id,
    ...(origin.target === undefined ? {} : { target: origin.target }),
    metadata: metadata,
    workflow: origin.workflow,
    instanceId: origin.instanceId,
    inputId: origin.inputId,
  };
}
