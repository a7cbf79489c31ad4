import { createRequire } from 'node:module';
import { resolve as absolutePath } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Database } from 'better-sqlite3';

/**
 * How a store's write-ahead log is copied back into the database file:
 * - `'auto'` (default): SQLite's own auto-checkpoint, run by the commit that fills the log
 *   past 1000 pages, on the committing thread.
 * - `'background'`: a worker thread with its own connection checkpoints (PASSIVE: it never
 *   waits for, nor blocks, readers and writers) every 200 ms, and the store's own connection
 *   never does. An app serving requests then has no commit that stalls its event
 *   loop for the copy and the syncs; in exchange it runs one more thread per store.
 */
export type WalCheckpoints = 'auto' | 'background';

/** How often the background checkpointer copies the log back. */
const INTERVAL_MS = 200;

// The worker is CommonJS source evaluated in the thread (a module file would not exist under
// a TypeScript test runner); it gets better-sqlite3's resolved path and the database path.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true });
const checkpoint = () => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (error) {
    parentPort.postMessage({ failed: String(error && error.message || error) });
  }
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', (message) => {
  if (message !== 'close') return;
  clearInterval(timer);
  checkpoint();
  db.close();
  parentPort.close();
});
`;

export interface WalCheckpointer {
  close(): Promise<void>;
}

/**
 * Starts background checkpoints of `db`'s log (see {@link WalCheckpoints}). Should the worker
 * fail to start, fail a checkpoint or die, it is stopped and the connection's own
 * auto-checkpoint is turned back on, so the log never grows without bound; `onProblem` hears
 * why, once.
 */
export function startWalCheckpointer(
  db: Database,
  onProblem: (message: string) => void,
): WalCheckpointer {
  db.pragma('wal_autocheckpoint = 0');
  let closing = false;
  let fellBack = false;
  const fallBack = (why: string): void => {
    if (closing || fellBack || !db.open) return;
    fellBack = true;
    db.pragma('wal_autocheckpoint = 1000');
    onProblem(`background WAL checkpoints stopped (${why}); the store checkpoints itself again`);
  };
  let worker: Worker;
  try {
    worker = new Worker(WORKER, {
      eval: true,
      workerData: {
        driver: createRequire(import.meta.url).resolve('better-sqlite3'),
        path: absolutePath(db.name),
        intervalMs: INTERVAL_MS,
      },
    });
  } catch (error) {
    fallBack(error instanceof Error ? error.message : String(error));
    return { close: () => Promise.resolve() };
  }
  // A checkpointer must never keep a process alive that has nothing else to do.
  worker.unref();
  worker.on('message', (message: { failed?: string }) => {
    if (message.failed === undefined) return;
    fallBack(`a checkpoint failed: ${message.failed}`);
    void worker.terminate();
  });
  worker.on('error', (error) => fallBack(error.message));
  const exited = new Promise<void>((resolve) => {
    worker.once('exit', (code) => {
      if (code !== 0) fallBack(`its worker exited with code ${code}`);
      resolve();
    });
  });
  return {
    async close() {
      closing = true;
      // Held open until its last checkpoint is done, even if nothing else keeps the process up.
      worker.ref();
      worker.postMessage('close');
      await exited;
    },
  };
}
