import { useEffect } from 'react';
import { Link } from './components/Link.tsx';
import { type Route, routePath } from './lib/routes.ts';
import { commands, useAppState } from './store/appStore.ts';
import { ExplorerView } from './views/ExplorerView.tsx';
import { FeedView } from './views/FeedView.tsx';
import { LogInView } from './views/LogInView.tsx';
import { NotFoundView } from './views/NotFoundView.tsx';
import { ProfileView } from './views/ProfileView.tsx';
import { ShopView } from './views/ShopView.tsx';
import { SignUpView } from './views/SignUpView.tsx';
import { StreamView } from './views/StreamView.tsx';
import { MailboxView } from './views/MailboxView.tsx';
import { WorkflowInstanceView, WorkflowsView } from './views/WorkflowsView.tsx';

const TITLES: Record<Route['name'], string> = {
  feed: 'Feed',
  userFeed: 'Tweets',
  signup: 'Sign up',
  login: 'Log in',
  profile: 'Profile',
  shop: 'Shop',
  explorer: 'Event explorer',
  stream: 'Stream',
  workflows: 'Workflows',
  workflow: 'Workflow instance',
  mailbox: 'Mailbox',
  notFound: 'Not found',
};

function Page({ route }: { route: Route }) {
  switch (route.name) {
    case 'feed':
      return <FeedView username={undefined} />;
    case 'userFeed':
      return <FeedView username={route.username} />;
    case 'signup':
      return <SignUpView />;
    case 'login':
      return <LogInView username={route.username} />;
    case 'profile':
      return <ProfileView />;
    case 'shop':
      return <ShopView />;
    case 'explorer':
      return <ExplorerView />;
    case 'stream':
      return <StreamView streamId={route.streamId} version={route.version} event={route.event} />;
    case 'workflows':
      return <WorkflowsView />;
    case 'workflow':
      return <WorkflowInstanceView workflow={route.workflow} instanceId={route.instanceId} />;
    case 'mailbox':
      return <MailboxView />;
    case 'notFound':
      return <NotFoundView path={route.path} />;
  }
}

function NavLink({ to, children }: { to: Route; children: string }) {
  const current = useAppState((s) => s.route.name);
  const active =
    current === to.name ||
    (to.name === 'explorer' &&
      (current === 'stream' || current === 'workflows' || current === 'workflow'));
  return (
    <Link to={to} aria-current={active ? 'page' : undefined}>
      {children}
    </Link>
  );
}

function Notice() {
  const notice = useAppState((s) => s.notice);
  useEffect(() => {
    if (notice === undefined) return;
    const timer = setTimeout(() => commands.dismissNotice(), 6000);
    return () => clearTimeout(timer);
  }, [notice]);
  if (notice === undefined) return null;
  return (
    <div className="notice" role="status">
      <span>{notice.text}</span>
      <button type="button" className="link-button" onClick={() => commands.dismissNotice()}>
        Dismiss
      </button>
    </div>
  );
}

/** Shown only where the server keeps a development mailbox (it answers 404 elsewhere). */
function MailboxLink({ userId }: { userId: string }) {
  const available = useAppState((s) => s.mailbox.available);
  useEffect(() => {
    void commands.loadMailbox();
  }, [userId]);
  return available === true ? <NavLink to={{ name: 'mailbox' }}>Mailbox</NavLink> : null;
}

function SessionMenu() {
  const session = useAppState((s) => s.session);
  const loggingOut = useAppState((s) => s.forms.logout?.pending ?? false);
  const logoutProblem = useAppState((s) => s.forms.logout?.problem);
  if (session.status === 'unknown') return <span className="muted">…</span>;
  if (session.status === 'anonymous' || session.user === undefined) {
    return (
      <>
        <NavLink to={{ name: 'login' }}>Log in</NavLink>
        <NavLink to={{ name: 'signup' }}>Sign up</NavLink>
      </>
    );
  }
  return (
    <>
      <MailboxLink userId={session.user.id} />
      <NavLink to={{ name: 'profile' }}>{`@${session.user.username}`}</NavLink>
      <button
        type="button"
        className="link-button"
        disabled={loggingOut}
        onClick={() => void commands.logOut()}
        title={logoutProblem?.detail}
      >
        Log out
      </button>
    </>
  );
}

export function App() {
  const route = useAppState((s) => s.route);

  useEffect(() => {
    void commands.loadSession();
    const onPopState = () => commands.locationChanged(location.pathname, location.search);
    window.addEventListener('popstate', onPopState);
    const clock = setInterval(() => commands.tick(), 15_000);
    return () => {
      window.removeEventListener('popstate', onPopState);
      clearInterval(clock);
    };
  }, []);

  // A new page scrolls to the top; moving through one stream's versions does not.
  const page = route.name === 'stream' ? `stream:${route.streamId}` : routePath(route);
  useEffect(() => {
    document.title = `${TITLES[route.name]} · Eventloom`;
    window.scrollTo(0, 0);
  }, [page, route.name]);

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="site-header">
        <Link to={{ name: 'feed' }} className="brand">
          <span aria-hidden="true">◉</span> Eventloom
        </Link>
        <nav aria-label="Main">
          <NavLink to={{ name: 'feed' }}>Feed</NavLink>
          <NavLink to={{ name: 'shop' }}>Shop</NavLink>
          <NavLink to={{ name: 'explorer' }}>Explorer</NavLink>
        </nav>
        <nav aria-label="Account" className="account-nav">
          <SessionMenu />
        </nav>
      </header>
      <Notice />
      <main id="main" tabIndex={-1}>
        <Page route={route} />
      </main>
      <footer className="site-footer">
        <a href="/api/openapi.json">API (OpenAPI)</a> · <a href="/health">Health</a> ·{' '}
        <a href="/metrics">Metrics</a>
      </footer>
    </>
  );
}
