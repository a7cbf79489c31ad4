import { Link } from '../components/Link.tsx';

/** The explorer's two halves: the event log and the workflows. */
export function ExplorerTabs({ current }: { current: 'events' | 'workflows' }) {
  return (
    <nav aria-label="Explorer" className="tabs">
      <Link to={{ name: 'explorer' }} aria-current={current === 'events' ? 'page' : undefined}>
        Events
      </Link>
      <Link to={{ name: 'workflows' }} aria-current={current === 'workflows' ? 'page' : undefined}>
        Workflows
      </Link>
    </nav>
  );
}
