import type { MouseEvent, ReactNode } from 'react';
import { type Route, routePath } from '../lib/routes.ts';
import { commands } from '../store/appStore.ts';

interface LinkProps {
  to: Route;
  children: ReactNode;
  className?: string;
  'aria-current'?: 'page' | undefined;
  title?: string;
}

/** An in-app link: a real `<a href>` (open in a new tab works) that navigates without a reload. */
export function Link({ to, children, ...rest }: LinkProps) {
  const onClick = (event: MouseEvent<HTMLAnchorElement>) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
      return;
    }
    event.preventDefault();
    commands.navigate(to);
  };
  return (
    <a href={routePath(to)} onClick={onClick} {...rest}>
      {children}
    </a>
  );
}
