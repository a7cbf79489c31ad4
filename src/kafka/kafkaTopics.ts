import type { Admin } from '@platformatic/kafka';
import {
  describeKafkaError,
  KafkaError,
  missingTopicMessage,
  translateKafkaError,
} from './kafkaErrors.js';

/**
 * How Eventloom creates a topic it needs that does not exist yet. `partitions` and
 * `replicationFactor` default to the broker's `num.partitions` / `default.replication.factor`.
 *
 * @example
 * createTopics: { partitions: 3, replicationFactor: 1, configs: { 'retention.ms': '604800000' } }
 */
export interface TopicSettings {
  partitions?: number;
  replicationFactor?: number;
  /** Topic configs, e.g. `{ 'max.message.bytes': '2097152' }`. */
  configs?: Record<string, string>;
}

export interface TopicInfo {
  name: string;
  partitions: number;
  /** The topic's `max.message.bytes`: the largest record batch the broker accepts. */
  maxMessageBytes: number;
}

/** Kafka's default `max.message.bytes`, used when the topic's config cannot be read. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;

export interface TopicRegistry {
  /** Resolves once the topic exists (creating it when allowed); cached after success. */
  ensure(topic: string): Promise<TopicInfo>;
  /** The cached info, if `ensure` succeeded before. */
  known(topic: string): TopicInfo | undefined;
  /** Drops the cached info (the topic was deleted): the next `ensure` checks, and creates, again. */
  forget(topic: string): void;
}

const TOPIC_RESOURCE = 2;

/**
 * The topic's `max.message.bytes` as the broker reports it (undefined when it reports none).
 * Throws when the configs cannot be described (ACLs, an unreachable broker).
 */
export async function readMaxMessageBytes(
  admin: Admin,
  topic: string,
): Promise<number | undefined> {
  const [described] = await admin.describeConfigs({
    resources: [
      {
        resourceType: TOPIC_RESOURCE,
        resourceName: topic,
        configurationKeys: ['max.message.bytes'],
      },
    ],
  });
  const n = Number(described?.configs.find((c) => c.name === 'max.message.bytes')?.value);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

export function createTopicRegistry(options: {
  admin: () => Promise<Admin>;
  brokers: readonly string[];
  create: TopicSettings | false;
  onCreated?: (info: TopicInfo) => void;
}): TopicRegistry {
  const cache = new Map<string, TopicInfo>();
  const pending = new Map<string, Promise<TopicInfo>>();
  const brokers = options.brokers.join(', ');

  const maxBytesOf = async (admin: Admin, topic: string): Promise<number> => {
    try {
      return (await readMaxMessageBytes(admin, topic)) ?? DEFAULT_MAX_MESSAGE_BYTES;
    } catch {
      // Describing configs may be forbidden by ACLs; the broker still enforces its limit.
      return DEFAULT_MAX_MESSAGE_BYTES;
    }
  };

  const partitionsOf = async (admin: Admin, topic: string): Promise<number | undefined> => {
    try {
      const md = await admin.metadata({ topics: [topic], forceUpdate: true });
      return md.topics.get(topic)?.partitionsCount;
    } catch (error) {
      if (/Unknown topic/i.test(describeKafkaError(error))) return undefined;
      throw error;
    }
  };

  const resolve = async (topic: string): Promise<TopicInfo> => {
    const context = {
      brokers: options.brokers,
      action: `checking that topic '${topic}' exists`,
      topic,
      fallback: 'PRODUCE_FAILED' as const,
    };
    try {
      const admin = await options.admin();
      const existing = await partitionsOf(admin, topic);
      if (existing !== undefined) {
        return {
          name: topic,
          partitions: existing,
          maxMessageBytes: await maxBytesOf(admin, topic),
        };
      }
      if (options.create === false) {
        throw new KafkaError('TOPIC_MISSING', missingTopicMessage(topic, brokers), {
          brokers: options.brokers,
          topic,
        });
      }
      const settings = options.create;
      try {
        const [created] = await admin.createTopics({
          topics: [topic],
          partitions: settings.partitions ?? -1,
          replicas: settings.replicationFactor ?? -1,
          ...(settings.configs
            ? {
                configs: Object.entries(settings.configs).map(([name, value]) => ({ name, value })),
              }
            : {}),
        });
        const info: TopicInfo = {
          name: topic,
          partitions: created?.partitions ?? (await partitionsOf(admin, topic)) ?? 1,
          maxMessageBytes:
            Number(created?.configuration?.['max.message.bytes']) || DEFAULT_MAX_MESSAGE_BYTES,
        };
        options.onCreated?.(info);
        return info;
      } catch (error) {
        // Another process created it first: fine.
        if (/TOPIC_ALREADY_EXISTS|already exists/i.test(describeKafkaError(error))) {
          return {
            name: topic,
            partitions: (await partitionsOf(admin, topic)) ?? 1,
            maxMessageBytes: await maxBytesOf(admin, topic),
          };
        }
        // Settings the broker refuses stay refused: that is a configuration error, not a wait.
        const refused = translateKafkaError(error, {
          ...context,
          action: `creating topic '${topic}' with ${JSON.stringify(settings)}`,
        });
        if (refused.reason === 'OPTION_REJECTED') throw refused;
        throw new KafkaError(
          'TOPIC_MISSING',
          `Could not create Kafka topic '${topic}' on ${brokers}: ${describeKafkaError(error)}. Create it yourself (kafka-topics.sh --create --topic ${topic}) or fix createTopics`,
          { brokers: options.brokers, topic, cause: error },
        );
      }
    } catch (error) {
      throw translateKafkaError(error, context);
    }
  };

  return {
    known: (topic) => cache.get(topic),
    forget: (topic) => void cache.delete(topic),
    ensure(topic) {
      const hit = cache.get(topic);
      if (hit) return Promise.resolve(hit);
      let p = pending.get(topic);
      if (!p) {
        p = resolve(topic).then(
          (info) => {
            cache.set(topic, info);
            pending.delete(topic);
            return info;
          },
          (error: unknown) => {
            pending.delete(topic);
            throw error;
          },
        );
        pending.set(topic, p);
      }
      return p;
    },
  };
}
