import { Link } from '../components/Link.tsx';

export function NotFoundView({ path }: { path: string }) {
  return (
    <section className="narrow">
      <h1>Nothing here</h1>
      <p>
        There is no page at <code>{path}</code>. Go to the <Link to={{ name: 'feed' }}>feed</Link>,
        the <Link to={{ name: 'shop' }}>shop</Link> or the{' '}
        <Link to={{ name: 'explorer' }}>event explorer</Link>.
      </p>
    </section>
  );
}
