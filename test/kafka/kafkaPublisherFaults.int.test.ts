import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventStore } from '../../src/core/types.js';
import type { KafkaRecord } from '../../src/kafka/kafkaMessage.js';
import type { RecordSender } from '../../src/kafka/kafkaProducerThread.js';
import { startPublisherWith } from '../../src/kafka/kafkaPublisher.js';
import { createSqliteEventStore } from '../../src/sqlite/sqliteEventStore.js';
import { serviceAvailable } from '../support/services.js';
import { BROKERS, KafkaTestKit } from './kafkaTestKit.js';

const available = await serviceAvailable('kafka');

type Outcome = 'ok' | 'unreachable';

/**
 * A sender with the producer thread's contract (requests answered in order, one on the wire;
 * after a failed one, none sent until `close()`) whose answers come from a script: it writes
 * what it acknowledges to `log`, refuses any request holding a `Huge` event as the broker
 * refuses a message over max.message.bytes, and fails others as an unreachable broker when
 * told to.
 */
class ScriptedSender implements RecordSender {
  readonly log: KafkaRecord[] = [];
  readonly #outcomes: readonly Outcome[];
  readonly pipeline: number;
  #next = 0;
  #tail: Promise<void> = Promise.resolve();
  #failed = false;

  constructor(outcomes: readonly Outcome[], pipeline: number) {
    this.#outcomes = outcomes;
    this.pipeline = pipeline;
  }

  send(records: readonly KafkaRecord[]): Promise<void> {
    const copy = [...records];
    const answer = this.#tail.then(async () => {
      // Answered on a later turn of the event loop, as a broker's answer would be.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.#failed) throw new Error('not sent: a request before it failed');
      try {
        if (copy.some((r) => r.headers.get('event-type') === 'Huge')) {
          throw Object.assign(new Error('Received response with error'), {
            errors: [{ message: 'larger than the max message size', apiId: 'MESSAGE_TOO_LARGE' }],
          });
        }
        const outcome = this.#outcomes[this.#next++ % this.#outcomes.length];
        if (outcome === 'unreachable') throw new Error('Connection closed');
        this.log.push(...copy);
      } catch (error) {
        this.#failed = true;
        throw error;
      }
    });
    this.#tail = answer.catch(() => undefined);
    return answer;
  }

  async warm(): Promise<void> {}
  async close(): Promise<void> {
    await this.#tail;
    this.#failed = false;
  }
  async dispose(): Promise<void> {}
}

describe.skipIf(!available)('Kafka publisher under injected send failures', () => {
  const kit = new KafkaTestKit();
  let topic: string;

  beforeAll(async () => {
    // Real topic metadata (partition count, max.message.bytes) from the broker; the sends
    // themselves go to the scripted sender.
    topic = await kit.createTopic('faults', 1);
  });
  afterAll(async () => {
    await kit.cleanup();
  });

  it('publishes every event at least once, in log order, and parks exactly the refused ones, whatever fails when', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            stream: fc.nat(3),
            type: fc.constantFrom('Small', 'Small', 'Small', 'Small', 'Huge'),
          }),
          {
            minLength: 1,
            maxLength: 40,
          },
        ),
        fc.array(fc.constantFrom<Outcome>('ok', 'ok', 'ok', 'unreachable'), {
          minLength: 1,
          maxLength: 30,
        }),
        fc.integer({ min: 1, max: 7 }),
        fc.constantFrom(1, 2),
        fc.nat(40),
        async (events, outcomes, batchSize, pipeline, before) => {
          const store: EventStore = createSqliteEventStore({ path: ':memory:' });
          // Ends with a success, so the script (cycled) always lets publishing go on.
          const sender = new ScriptedSender([...outcomes, 'ok'], pipeline);
          const name = `faults-${run++}`;
          const append = async (slice: typeof events) => {
            for (const e of slice) {
              await store.appendToStream(`s-${e.stream}`, [{ type: e.type, data: {} }]);
            }
          };
          try {
            // Some events wait in the store (catch-up), the rest come while it runs (live).
            await append(events.slice(0, before));
            const publisher = startPublisherWith(
              {
                store,
                brokers: BROKERS,
                name,
                topicFor: () => topic,
                createTopics: false,
                batchSize,
                retry: { initialDelayMs: 0, maxDelayMs: 1 },
              },
              () => sender,
            );
            await append(events.slice(before));
            const head = await store.headPosition();
            await publisher.waitFor(head, 10_000);
            await publisher.stop();

            const stored = await store.readAll();
            const huge = new Set(stored.filter((e) => e.type === 'Huge').map((e) => e.id));
            const parked = await store.checkpoints.listParked(name);
            expect(new Set(parked.map((p) => p.event.id))).toEqual(huge);

            const firstSeen: number[] = [];
            const seen = new Set<string>();
            for (const r of sender.log) {
              const id = r.headers.get('event-id')!;
              expect(huge.has(id)).toBe(false);
              if (!seen.has(id)) firstSeen.push(Number(r.headers.get('position')));
              seen.add(id);
            }
            // Every event that was not parked, in the log's order (one partition here).
            expect(firstSeen).toEqual(stored.filter((e) => !huge.has(e.id)).map((e) => e.position));
            expect(await store.checkpoints.load(name)).toBe(head);
          } finally {
            await store.close();
          }
        },
      ),
      { numRuns: 200 },
    );
  }, 120_000);
});
