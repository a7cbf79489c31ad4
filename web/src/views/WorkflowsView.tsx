import { useCallback } from 'react';
import type { WorkflowInputEntry, WorkflowOutput } from '../api/types.ts';
import { JsonView } from '../components/JsonView.tsx';
import { Link } from '../components/Link.tsx';
import { ProblemMessage } from '../components/ProblemMessage.tsx';
import { RelativeTime } from '../components/RelativeTime.tsx';
import { formatDateTime } from '../lib/format.ts';
import { commands, useAppState } from '../store/appStore.ts';
import { ExplorerTabs } from './ExplorerTabs.tsx';
import { usePolling } from './usePolling.ts';

const loadWorkflows = () => commands.loadWorkflows();

/** Every workflow instance, most recently active first. */
export function WorkflowsView() {
  const workflows = useAppState((s) => s.explorer.workflows);
  usePolling(loadWorkflows, 2000);
  const list = workflows.data;
  return (
    <div className="explorer">
      <h1>Event explorer</h1>
      <ExplorerTabs current="workflows" />
      <section className="card" aria-labelledby="instances-heading">
        <h2 id="instances-heading">Workflow instances</h2>
        <ProblemMessage problem={workflows.status === 'failed' ? workflows.problem : undefined} />
        {list === undefined ? (
          workflows.status === 'failed' ? null : (
            <p className="muted">Loading…</p>
          )
        ) : (
          <>
            <p className="small muted">
              {list.workflows.length === 0
                ? 'This process runs no workflows.'
                : `Workflows of this process: ${list.workflows.join(', ')}`}
            </p>
            {list.instances.length === 0 ? (
              <p className="muted">No instance has handled an input yet.</p>
            ) : (
              <div className="table-scroll">
                <table className="workflow-instances">
                  <thead>
                    <tr>
                      <th scope="col">Workflow</th>
                      <th scope="col">Instance</th>
                      <th scope="col" className="num">
                        Inputs
                      </th>
                      <th scope="col">Last input</th>
                      <th scope="col">Updated</th>
                    </tr>
                  </thead>
                  <tbody>
                    {list.instances.map((i) => (
                      <tr key={i.streamId} data-instance={i.instanceId}>
                        <td>{i.workflow}</td>
                        <td>
                          <Link
                            to={{
                              name: 'workflow',
                              workflow: i.workflow,
                              instanceId: i.instanceId,
                            }}
                            className="stream-id"
                          >
                            {i.instanceId}
                          </Link>
                        </td>
                        <td className="num">{i.inputs}</td>
                        <td>{i.lastInputType}</td>
                        <td>
                          <RelativeTime iso={i.updatedAt} />
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </>
        )}
      </section>
    </div>
  );
}

function OutputItem({ output }: { output: WorkflowOutput }) {
  switch (output.kind) {
    case 'command':
      return (
        <>
          command <strong>{output.type}</strong>
          {output.target !== undefined ? ` → ${output.target}` : ''}
        </>
      );
    case 'event':
      return (
        <>
          event{' '}
          <Link
            to={{
              name: 'stream',
              streamId: output.stream ?? '',
              version: undefined,
              ...(output.eventId !== undefined ? { event: output.eventId } : {}),
            }}
          >
            <strong>{output.type}</strong>
          </Link>{' '}
          on <code>{output.stream}</code>
        </>
      );
    case 'schedule':
      return (
        <>
          timer <strong>{output.timerId}</strong> scheduled for{' '}
          {output.dueAt !== undefined ? formatDateTime(output.dueAt) : '?'} ({output.message?.type})
        </>
      );
    case 'cancel':
      return (
        <>
          timer <strong>{output.timerId}</strong> cancelled
        </>
      );
  }
}

function InputItem({ entry }: { entry: WorkflowInputEntry }) {
  const { source } = entry;
  return (
    <li className="workflow-input" data-input-type={entry.type}>
      <p>
        <strong>{entry.type}</strong>{' '}
        {source.kind === 'event' ? (
          <>
            from{' '}
            <Link
              to={{
                name: 'stream',
                streamId: source.streamId,
                version: undefined,
                event: entry.inputId,
              }}
              className="stream-id"
            >
              {source.streamId}
            </Link>
          </>
        ) : (
          <>from timer {source.timerId}</>
        )}{' '}
        <span className="muted small">
          #{entry.position} · <RelativeTime iso={entry.recordedAt} />
        </span>
      </p>
      {entry.outputs.length === 0 ? (
        <p className="small muted">No outputs.</p>
      ) : (
        <ul className="workflow-outputs" aria-label={`What ${entry.type} caused`}>
          {entry.outputs.map((o) => (
            <li key={o.id} data-output-kind={o.kind}>
              <OutputItem output={o} />
            </li>
          ))}
        </ul>
      )}
      <details>
        <summary>Input data</summary>
        <JsonView value={entry.data} label={`Data of ${entry.type}`} />
      </details>
    </li>
  );
}

/** One instance: its state, pending timers, and each input with what it caused. */
export function WorkflowInstanceView({
  workflow,
  instanceId,
}: {
  workflow: string;
  instanceId: string;
}) {
  const shown = useAppState((s) => s.explorer.workflow);
  const load = useCallback(
    () => commands.loadWorkflowInstance(workflow, instanceId),
    [workflow, instanceId],
  );
  usePolling(load, 2000);
  const view = shown.key === `${workflow}/${instanceId}` ? shown : undefined;
  const instance = view?.data;
  return (
    <div className="explorer">
      <p>
        <Link to={{ name: 'workflows' }}>← Workflows</Link>
      </p>
      <h1>
        Workflow <code>{workflow}</code> · <code className="stream-id">{instanceId}</code>
      </h1>
      <ProblemMessage problem={view?.status === 'failed' ? view.problem : undefined} />
      {instance === undefined ? (
        view?.status === 'failed' ? null : (
          <p className="muted">Loading…</p>
        )
      ) : (
        <>
          <p className="muted">
            Stream{' '}
            <Link to={{ name: 'stream', streamId: instance.streamId, version: undefined }}>
              {instance.streamId}
            </Link>{' '}
            · version {instance.version}
          </p>
          <section className="card" aria-labelledby="wf-state-heading">
            <h2 id="wf-state-heading">State</h2>
            <JsonView value={instance.state} label="Workflow state" />
          </section>
          <section className="card" aria-labelledby="wf-timers-heading">
            <h2 id="wf-timers-heading">Pending timers</h2>
            {instance.timers.length === 0 ? (
              <p className="muted">None.</p>
            ) : (
              <ul className="workflow-timers" aria-label="Pending timers">
                {instance.timers.map((t) => (
                  <li key={t.scheduleId} data-timer={t.timerId}>
                    <strong>{t.timerId}</strong> due {formatDateTime(t.dueAt)} (
                    <RelativeTime iso={t.dueAt} />) → {t.message.type}
                  </li>
                ))}
              </ul>
            )}
          </section>
          <section className="card" aria-labelledby="wf-inputs-heading">
            <h2 id="wf-inputs-heading">Inputs and what they caused</h2>
            <ol className="workflow-inputs">
              {instance.inputs.map((entry) => (
                <InputItem key={entry.id} entry={entry} />
              ))}
            </ol>
          </section>
        </>
      )}
    </div>
  );
}
