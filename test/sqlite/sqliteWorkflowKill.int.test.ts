import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { readWorkflowInstance } from '../../src/core/workflowInspection.js';
import { createWorkflowTimerIndex } from '../../src/core/workflowTimers.js';
import { createSqliteEventStore } from '../../src/sqlite/sqliteEventStore.js';
import { orderEffects, PAYMENT_TIMEOUT_MS, paymentWorkflow } from '../support/paymentWorkflow.js';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'workflowRunner.ts');
const dir = mkdtempSync(join(tmpdir(), 'eventloom-workflow-kill-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ORDERS = 40;
const T0 = Date.parse('2030-01-01T00:00:00Z');

function startRunner(
  path: string,
  clockMs: number,
): { child: ChildProcess; exited: Promise<unknown> } {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, path, String(clockMs)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  onTestFinished(() => void child.kill('SIGKILL'));
  const exited = new Promise((resolve) => child.on('exit', resolve));
  return { child, exited };
}

describe('workflow runner processes killed with SIGKILL', () => {
  it('complete every effect exactly once, and fire the timers scheduled before the kill', async () => {
    const path = join(dir, 'shop.db');
    const store = createSqliteEventStore({ path, busyTimeoutMs: 30_000 });
    onTestFinished(() => store.close());
    const ids = Array.from({ length: ORDERS }, (_, i) => `o${i}`);
    for (const id of ids) {
      await store.appendToStream(`shop-${id}`, [{ type: 'OrderPlaced', data: { orderId: id } }]);
    }
    const effects = async () => Promise.all(ids.map((id) => orderEffects(store, id)));
    const count = async (type: string) =>
      (await effects()).filter((list) => list.includes(type)).length;

    // Killed part-way through reserving stock, before the timers are due.
    const first = startRunner(path, T0);
    await expect
      .poll(() => count('StockReserved'), { timeout: 60_000 })
      .toBeGreaterThan(ORDERS / 4);
    first.child.kill('SIGKILL');
    await first.exited;

    // Restarted after the payment timeout, killed part-way through the cancellations.
    const second = startRunner(path, T0 + 10 * PAYMENT_TIMEOUT_MS);
    await expect.poll(() => count('OrderCancelled'), { timeout: 60_000 }).toBeGreaterThan(0);
    second.child.kill('SIGKILL');
    await second.exited;

    const third = startRunner(path, T0 + 10 * PAYMENT_TIMEOUT_MS);
    await expect.poll(() => count('OrderCancelled'), { timeout: 60_000 }).toBe(ORDERS);
    third.child.kill('SIGKILL');
    await third.exited;

    expect(await effects()).toEqual(ids.map(() => ['StockReserved', 'OrderCancelled']));
    for (const id of ids) {
      expect(await store.readStream(`notices-${id}`)).toHaveLength(1);
      const view = await readWorkflowInstance(store, paymentWorkflow, id);
      expect(view.inputs.map((i) => i.input.type)).toEqual(['OrderPlaced', 'PaymentTimedOut']);
    }
    expect(await createWorkflowTimerIndex(store.documents.async).list('payment')).toEqual([]);
  }, 120_000);
});
