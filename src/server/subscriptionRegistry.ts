import type { Subscription, SubscriptionStatus } from '../core/index.js';

/** What a monitored subscription does: builds a read model, publishes to a bus, or else. */
export type SubscriptionKind = 'projection' | 'publisher' | 'subscription';

export interface SubscriptionReport extends SubscriptionStatus {
  kind: SubscriptionKind;
  head: number;
  /** Events between the subscription's position and the head. */
  lag: number;
}

/**
 * The subscriptions `/api/subscriptions` and `/metrics` report on. Sources are functions, so
 * subscriptions that restart (a new object each time) are always reported as they are now.
 *
 * @example
 * registry.add('publisher', () => [kafkaPublisher.subscription]);
 */
export interface SubscriptionRegistry {
  /** Returns a function that removes the source again. */
  add(kind: SubscriptionKind, source: () => readonly Subscription[]): () => void;
  report(head: number): SubscriptionReport[];
}

export function createSubscriptionRegistry(): SubscriptionRegistry {
  const sources = new Set<{ kind: SubscriptionKind; source: () => readonly Subscription[] }>();
  return {
    add(kind, source) {
      const entry = { kind, source };
      sources.add(entry);
      return () => sources.delete(entry);
    },
    report(head) {
      const out: SubscriptionReport[] = [];
      for (const { kind, source } of sources) {
        for (const sub of source()) {
          const status = sub.status();
          out.push({ ...status, kind, head, lag: Math.max(0, head - status.position) });
        }
      }
      return out.sort((a, b) => a.name.localeCompare(b.name));
    },
  };
}
