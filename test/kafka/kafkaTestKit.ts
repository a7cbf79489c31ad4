import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Admin, Consumer, MessagesStreamModes, stringDeserializers } from '@platformatic/kafka';
import type { EventStore } from '../../src/core/types.js';
import { startKafkaPublisher } from '../../src/kafka/kafkaPublisher.js';
import { KAFKA_BROKERS, uniqueName } from '../support/services.js';

export const BROKERS = KAFKA_BROKERS.split(',').map((b) => b.trim());

/** Publishes every event of `store` to `topic` and stops the publisher. */
export async function publishStore(store: EventStore, topic: string): Promise<void> {
  const publisher = startKafkaPublisher({
    store,
    brokers: BROKERS,
    topicFor: () => topic,
    name: `pub-${topic}`,
  });
  await publisher.waitFor(await store.headPosition());
  await publisher.stop();
}

/** A message as read back from a topic, with string key, value and headers. */
export interface ReadMessage {
  topic: string;
  partition: number;
  offset: bigint;
  key: string | undefined;
  value: string | undefined;
  headers: Record<string, string>;
}

/**
 * Topics of one test file: unique names, created through the admin API (the broker does not
 * auto-create), all deleted by `cleanup()`.
 */
export class KafkaTestKit {
  readonly admin = new Admin({ clientId: 'eventloom-tests', bootstrapBrokers: BROKERS });
  readonly #topics = new Set<string>();
  readonly #groups = new Set<string>();

  /** A topic name unique to this run; deleted by cleanup() whoever creates it. */
  topicName(prefix: string): string {
    const name = uniqueName(prefix).replace(/[^A-Za-z0-9._-]/g, '_');
    this.#topics.add(name);
    return name;
  }

  /** Tracks a topic created by the code under test (e.g. `eventloom.<category>`, `<t>.dlq`). */
  track(...topics: string[]): void {
    for (const t of topics) this.#topics.add(t);
  }

  groupName(prefix: string): string {
    const name = uniqueName(prefix);
    this.#groups.add(name);
    return name;
  }

  async createTopic(
    prefix: string,
    partitions = 3,
    configs?: Record<string, string>,
  ): Promise<string> {
    const name = this.topicName(prefix);
    await this.admin.createTopics({
      topics: [name],
      partitions,
      replicas: 1,
      ...(configs
        ? { configs: Object.entries(configs).map(([n, value]) => ({ name: n, value })) }
        : {}),
    });
    return name;
  }

  async cleanup(): Promise<void> {
    const existing = new Set(await this.admin.listTopics());
    const topics = [...this.#topics].filter((t) => existing.has(t));
    if (topics.length > 0) await this.admin.deleteTopics({ topics });
    if (this.#groups.size > 0) {
      await this.admin.deleteGroups({ groups: [...this.#groups] }).catch(() => undefined);
    }
    await this.admin.close();
  }

  /** Latest offset (the next one to be written) per partition. */
  async endOffsets(topic: string): Promise<bigint[]> {
    const md = await this.admin.metadata({ topics: [topic], forceUpdate: true });
    const count = md.topics.get(topic)?.partitionsCount ?? 0;
    const [listed] = await this.admin.listOffsets({
      topics: [
        {
          name: topic,
          partitions: Array.from({ length: count }, (_, i) => ({
            partitionIndex: i,
            timestamp: -1n,
          })),
        },
      ],
    });
    const out = Array.from({ length: count }, () => 0n);
    for (const p of listed?.partitions ?? []) out[p.partitionIndex] = p.offset;
    return out;
  }

  /** Committed offset per partition of `topic` for `groupId` (-1n where none). */
  async committedOffsets(groupId: string, topic: string): Promise<bigint[]> {
    const ends = await this.endOffsets(topic);
    const [group] = await this.admin.listConsumerGroupOffsets({
      groups: [{ groupId, topics: [{ name: topic, partitionIndexes: ends.map((_, i) => i) }] }],
    });
    const out = ends.map(() => -1n);
    for (const t of group?.topics ?? []) {
      for (const p of t.partitions) out[p.partitionIndex] = p.committedOffset;
    }
    return out;
  }

  /** Every message of `topic` from the beginning, read with a throw-away group. */
  async readTopic(topic: string, timeoutMs = 20_000): Promise<ReadMessage[]> {
    const ends = await this.endOffsets(topic);
    const remaining = new Map(ends.map((end, p) => [p, end] as const));
    for (const [p, end] of remaining) if (end === 0n) remaining.delete(p);
    const out: ReadMessage[] = [];
    if (remaining.size === 0) return out;
    const groupId = this.groupName('reader');
    const consumer = new Consumer({
      clientId: 'eventloom-tests-reader',
      groupId,
      bootstrapBrokers: BROKERS,
      deserializers: stringDeserializers,
    });
    const stream = await consumer.consume({
      topics: [topic],
      mode: MessagesStreamModes.EARLIEST,
      autocommit: false,
      maxWaitTime: 200,
    });
    const timer = setTimeout(() => void stream.close(), timeoutMs);
    try {
      for await (const m of stream) {
        out.push({
          topic: m.topic,
          partition: m.partition,
          offset: m.offset,
          key: m.key,
          value: m.value,
          headers: Object.fromEntries(m.headers),
        });
        const end = remaining.get(m.partition);
        if (end !== undefined && m.offset + 1n >= end) remaining.delete(m.partition);
        if (remaining.size === 0) break;
      }
    } finally {
      clearTimeout(timer);
      await stream.close().catch(() => undefined);
      await new Promise<void>((resolve) => consumer.close(true, () => resolve()));
    }
    if (remaining.size > 0)
      throw new Error(`readTopic(${topic}) timed out with ${out.length} messages`);
    return out.sort((a, b) => a.partition - b.partition || Number(a.offset - b.offset));
  }

  /** Resolves once `groupId` committed up to the end of every partition of `topic`. */
  async waitForGroup(groupId: string, topic: string, timeoutMs = 20_000): Promise<void> {
    // Imported here: the fixture processes import this kit outside Vitest.
    const { vi } = await import('vitest');
    await vi.waitFor(
      async () => {
        const [ends, committed] = await Promise.all([
          this.endOffsets(topic),
          this.committedOffsets(groupId, topic),
        ]);
        if (!ends.every((end, p) => end === 0n || (committed[p] ?? -1n) >= end))
          throw new Error(
            `group ${groupId} did not catch up on ${topic}: ends ${ends.join(',')}, committed ${committed.join(',')}`,
          );
      },
      { timeout: timeoutMs, interval: 100 },
    );
  }
}

/**
 * A fixture script in its own Node process (so a test can SIGKILL it: a real crash, no
 * `finally`, no commit). `lines` collects its stdout lines.
 */
export interface FixtureProcess {
  child: ChildProcess;
  lines: string[];
  exited: Promise<number | null>;
  stderr(): string;
  waitForLine(match: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  kill(): Promise<void>;
}

export function runFixture(
  script: string,
  args: string[],
  env: Record<string, string> = {},
): FixtureProcess {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, 'fixtures', script), ...args],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    },
  );
  const lines: string[] = [];
  let err = '';
  let partial = '';
  const listeners = new Set<() => void>();
  child.stdout?.on('data', (d: Buffer) => {
    partial += d.toString();
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts.filter((l) => l !== ''));
    for (const l of listeners) l();
  });
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    lines,
    exited,
    stderr: () => err,
    waitForLine(match, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const found = lines.find(match);
          if (found !== undefined) {
            listeners.delete(check);
            clearTimeout(timer);
            resolve(found);
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`${script}: no matching line within ${timeoutMs} ms; stderr: ${err}`));
        }, timeoutMs);
        listeners.add(check);
        void exited.then((code) => {
          if (listeners.has(check)) {
            listeners.delete(check);
            clearTimeout(timer);
            reject(new Error(`${script} exited ${code} before the expected line; stderr: ${err}`));
          }
        });
        check();
      });
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
