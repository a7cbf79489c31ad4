import { useEffect } from 'react';
import { commands, useAppState } from '../store/appStore.ts';

/** Keeps the live tail open while the component is shown (reopened when the user changes). */
export function useLiveTail(): void {
  const userId = useAppState((s) => s.session.user?.id);
  const sessionKnown = useAppState((s) => s.session.status !== 'unknown');
  useEffect(() => {
    if (!sessionKnown) return;
    commands.startLive();
    return () => commands.stopLive();
  }, [userId, sessionKnown]);
}
