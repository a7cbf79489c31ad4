import { type Actor, redactForViewer } from '../app/index.js';
import {
  type DocumentStore,
  type DomainEvent,
  type EventStore,
  readWorkflowInstance,
  type RecordedEvent,
  WORKFLOW_INSTANCES_COLLECTION,
  WORKFLOW_RECORD_TYPES,
  type Workflow,
  type WorkflowInstanceSummary,
  type WorkflowRecord,
} from '../core/index.js';
import {
  WorkflowInstance,
  WorkflowInstanceList,
  WorkflowParams,
  WorkflowsQuery,
} from './apiSchemas.js';
import type { ApiRouter } from './apiRouter.js';
import { HttpProblem } from './problem.js';

/** Any workflow, whatever its state and message types. */
export type AnyWorkflow = Workflow<unknown, DomainEvent, DomainEvent, DomainEvent>;

export interface WorkflowRouteDeps {
  router: ApiRouter;
  store: EventStore;
  /** Where `workflowInstancesProjection` keeps the instance list (the app's read models). */
  readModels: DocumentStore;
  /** The workflows whose instances can be shown (state needs the definition to fold). */
  workflows: readonly AnyWorkflow[];
}

const TAGS = ['event store'];

/**
 * The personal-data rules of events applied to what an instance stream copies of them: the
 * input (its own type and stream), each event output (its type and target stream), command
 * and timer messages (their types). The instance stream is no event the rules name, so without
 * this the explorer would show through it what it hides in the events themselves.
 */
function redactData(type: unknown, data: unknown, streamId: unknown, viewer: Actor | undefined) {
  if (typeof type !== 'string') return data;
  return redactForViewer(
    {
      id: '',
      streamId: typeof streamId === 'string' ? streamId : '',
      type,
      data,
      metadata: {},
      version: 0,
      position: 0,
      recordedAt: new Date(0),
    },
    viewer,
  ).data;
}

function redactRecord(event: RecordedEvent, viewer: Actor | undefined): RecordedEvent {
  if (typeof event.data !== 'object' || event.data === null) return event;
  const r = event.data as Record<string, unknown>;
  switch (event.type) {
    case WORKFLOW_RECORD_TYPES.input: {
      const source = r.source as { streamId?: unknown } | undefined;
      return {
        ...event,
        data: { ...r, data: redactData(r.type, r.data, source?.streamId, viewer) },
      };
    }
    case WORKFLOW_RECORD_TYPES.event:
    case WORKFLOW_RECORD_TYPES.command:
      return { ...event, data: { ...r, data: redactData(r.type, r.data, r.stream, viewer) } };
    case WORKFLOW_RECORD_TYPES.scheduled: {
      const m = r.message as Record<string, unknown> | undefined;
      if (typeof m !== 'object' || m === null) return event;
      const data = redactData(m.type, m.data, undefined, viewer);
      return { ...event, data: { ...r, message: { ...m, data } } };
    }
    default:
      return event;
  }
}

const toApiOutput = (record: Exclude<WorkflowRecord, { kind: 'input' }>) => {
  switch (record.kind) {
    case 'command':
      return {
        kind: record.kind,
        id: record.id,
        type: record.type,
        data: record.data,
        ...(record.target !== undefined ? { target: record.target } : {}),
      };
    case 'event':
      return {
        kind: record.kind,
        id: record.id,
        type: record.type,
        data: record.data,
        stream: record.stream,
        eventId: record.eventId,
      };
    case 'schedule':
      return {
        kind: record.kind,
        id: record.id,
        timerId: record.timerId,
        dueAt: record.dueAt,
        message: { type: record.message.type, data: record.message.data },
      };
    case 'cancel':
      return {
        kind: record.kind,
        id: record.id,
        timerId: record.timerId,
        scheduleId: record.scheduleId,
      };
  }
};

/**
 * The explorer's view of workflows: the instance list (from `workflowInstancesProjection`) and
 * one instance's state, pending timers and input → outputs. Same access policy as the rest of
 * the store API, and the same redaction of other people's personal fields.
 */
export function registerWorkflowRoutes({
  router,
  store,
  readModels,
  workflows,
}: WorkflowRouteDeps): void {
  const byName = new Map(workflows.map((w) => [w.name, w]));

  router.route(
    {
      method: 'get',
      path: '/api/workflows',
      operationId: 'listWorkflowInstances',
      summary: 'Workflow instances, most recently active first',
      tags: TAGS,
      auth: 'explorer',
      query: WorkflowsQuery,
      responses: { 200: { description: 'The instances', schema: WorkflowInstanceList } },
    },
    async (c, { query }) => {
      const instances = await readModels.find<WorkflowInstanceSummary>(
        WORKFLOW_INSTANCES_COLLECTION,
        query.workflow === undefined ? undefined : { workflow: query.workflow },
        { sort: { field: 'updatedAt', direction: 'desc' }, limit: query.limit ?? 100 },
      );
      return c.json({
        workflows: [...byName.keys()],
        instances: instances.map((i) => ({
          workflow: i.workflow,
          instanceId: i.instanceId,
          streamId: i.streamId,
          inputs: i.inputs,
          lastInputType: i.lastInputType,
          updatedAt: i.updatedAt,
        })),
      });
    },
  );

  router.route(
    {
      method: 'get',
      path: '/api/workflows/:name/:instanceId',
      operationId: 'readWorkflowInstance',
      summary: 'One workflow instance: state, pending timers, inputs and what each caused',
      tags: TAGS,
      auth: 'explorer',
      params: WorkflowParams,
      responses: {
        200: { description: 'The instance', schema: WorkflowInstance },
        404: { description: 'No such workflow in this process, or the instance has no input yet' },
      },
    },
    async (c, { params, actor }) => {
      const workflow = byName.get(params.name);
      if (workflow === undefined) {
        const known = [...byName.keys()];
        throw new HttpProblem('not-found', {
          detail: `This process runs no workflow named ${params.name}${known.length > 0 ? ` (it runs: ${known.join(', ')})` : ''}`,
        });
      }
      // Folded from the records as this caller may see them, so the state holds no one
      // else's personal data either.
      const seen = {
        readStream: async (...args: Parameters<EventStore['readStream']>) =>
          (await store.readStream(...args)).map((e) => redactRecord(e, actor)),
      };
      const view = await readWorkflowInstance(seen, workflow, params.instanceId);
      if (view.version === 0) {
        throw new HttpProblem('not-found', {
          detail: `Workflow ${params.name} has no instance ${params.instanceId} (no input handled yet)`,
        });
      }
      return c.json({
        workflow: view.workflow,
        instanceId: view.instanceId,
        streamId: view.streamId,
        version: view.version,
        state: view.state,
        timers: view.timers.map((t) => ({
          timerId: t.timerId,
          scheduleId: t.scheduleId,
          dueAt: t.dueAt.toISOString(),
          message: { type: t.message.type, data: t.message.data },
        })),
        inputs: view.inputs.map((entry) => ({
          id: entry.input.id,
          inputId: entry.input.inputId,
          type: entry.input.type,
          data: entry.input.data,
          source: entry.input.source,
          recordedAt: entry.recordedAt.toISOString(),
          position: entry.position,
          outputs: entry.outputs.map(toApiOutput),
        })),
      });
    },
  );
}
