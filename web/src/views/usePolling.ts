import { useEffect } from 'react';

/** Calls `load` now and every `intervalMs` while the component is shown and the tab visible. */
export function usePolling(load: () => Promise<void>, intervalMs: number): void {
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async () => {
      if (stopped) return;
      if (document.visibilityState !== 'hidden') await load();
      if (!stopped) timer = setTimeout(() => void run(), intervalMs);
    };
    void run();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [load, intervalMs]);
}
