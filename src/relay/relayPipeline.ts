import { basename, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Logger } from '../core/logger.js';
import { ConfigurationError } from '../core/errors.js';
import type { RetryOptions, StepConfig } from './relayConfig.js';
import { RelayStepError } from './relayErrors.js';
import { compileFilter } from './relayFilter.js';
import { createHttpStep } from './relayHttpSink.js';
import { createKafkaStep, KafkaProducers, kafkaBrokers } from './relayKafkaSink.js';
import type {
  CustomStepFactory,
  CustomStepFunction,
  RelayStep,
  RetrySettings,
} from './relayStep.js';
import { compileTemplate, deletePath, getPath, setPath, type Template } from './relayTemplate.js';

export const DEFAULT_RETRY: RetrySettings = {
  maxAttempts: 10,
  initialDelayMs: 200,
  maxDelayMs: 30_000,
};

/** A compiled pipeline: the steps one change goes through, in order. */
export interface Pipeline {
  /** Where it was configured, e.g. `source.mongodb.databases.shop.pipeline`. */
  readonly name: string;
  readonly steps: readonly RelayStep[];
}

export interface PipelineFactoryOptions {
  baseDir: string;
  log: Logger;
  retry?: RetryOptions;
  /** Brokers of a Kafka step that names none. Default 127.0.0.1:9092. */
  kafkaBrokers?: string;
}

/** Builds pipelines from config; owns the shared resources (Kafka producers) of their steps. */
export class PipelineFactory {
  readonly kafka: KafkaProducers;
  #closers: (() => Promise<void>)[] = [];
  readonly #defaults: RetrySettings;

  constructor(private readonly options: PipelineFactoryOptions) {
    this.kafka = new KafkaProducers(options.log, options.kafkaBrokers);
    this.#defaults = { ...DEFAULT_RETRY, ...options.retry };
  }

  async build(steps: readonly StepConfig[], name: string): Promise<Pipeline> {
    const built: RelayStep[] = [];
    for (const [i, step] of steps.entries()) built.push(await this.#step(step, `${name}[${i}]`));
    return { name, steps: built };
  }

  async #step(step: StepConfig, where: string): Promise<RelayStep> {
    const retryOf = (r: RetryOptions | undefined): RetrySettings => ({ ...this.#defaults, ...r });
    const once: RetrySettings = { ...this.#defaults, maxAttempts: 1 };
    if ('filter' in step) {
      const predicate = compileFilter(step.filter, `${where}.filter`);
      return {
        name: `${where}.filter`,
        retry: once,
        readsOnly: true,
        run: (message) => {
          const pass = predicate(message);
          return typeof pass === 'boolean'
            ? pass
              ? undefined
              : null
            : pass.then((p) => (p ? undefined : null));
        },
      };
    }
    if ('map' in step) return mapStep(step.map, `${where}.map`, once);
    if ('log' in step) {
      const { level = 'info', fields, message: text = 'relay change' } = step.log;
      return {
        name: `${where}.log`,
        retry: once,
        readsOnly: true,
        run: async (message, context) => {
          const body = fields
            ? Object.fromEntries(fields.map((f) => [f, getPath(message, f)]))
            : { message };
          context.log[level]({ key: context.key, ...body }, text);
          return undefined;
        },
      };
    }
    if ('http' in step) {
      const http = createHttpStep(step.http, `${where}.http`, retryOf(step.http.retry));
      if (http.close) this.#closers.push(http.close.bind(http));
      return http;
    }
    if ('kafka' in step) {
      const kafka = createKafkaStep(
        step.kafka,
        `${where}.kafka`,
        retryOf(step.kafka.retry),
        this.kafka,
      );
      // A missing client library is a start-up error, not a dead letter per change.
      await this.kafka.get(kafkaBrokers(step.kafka, this.kafka.defaultBrokers), step.kafka).ready();
      return kafka;
    }
    return this.#custom(step.custom, where, retryOf(step.custom.retry));
  }

  async #custom(
    config: Extract<StepConfig, { custom: unknown }>['custom'],
    where: string,
    retry: RetrySettings,
  ): Promise<RelayStep> {
    const file = resolve(this.options.baseDir, config.module);
    const name = `${where}.custom(${config.name ?? basename(file)})`;
    let factory: unknown;
    try {
      factory = ((await import(pathToFileURL(file).href)) as { default?: unknown }).default;
    } catch (error) {
      throw new ConfigurationError(
        `relay config ${where}.custom.module: cannot load ${file} (${(error as Error).message}); the path is relative to the config file`,
        { cause: error },
      );
    }
    if (typeof factory !== 'function') {
      throw new ConfigurationError(
        `relay config ${where}.custom.module: ${file} must export a default function (options, { log, name }) => step function`,
      );
    }
    const made = await (factory as CustomStepFactory)(config.options, {
      log: this.options.log.child({ step: name }),
      name,
    });
    const run: CustomStepFunction | undefined =
      typeof made === 'function' ? made : typeof made?.run === 'function' ? made.run : undefined;
    if (run === undefined) {
      throw new ConfigurationError(
        `relay config ${where}.custom.module: the factory of ${file} must return a function (message, context) => message | null | undefined`,
      );
    }
    if (typeof made === 'object' && typeof made.close === 'function') {
      const close = made.close.bind(made);
      this.#closers.push(close);
    }
    return { name, retry, run: async (message, context) => run(message, context) };
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.kafka.close(), ...this.#closers.map((c) => c())]);
  }
}

function mapStep(
  config: Extract<StepConfig, { map: unknown }>['map'],
  name: string,
  retry: RetrySettings,
): RelayStep {
  const sets: [string, unknown][] = Object.entries(config.set ?? {}).map(([path, value]) => [
    path,
    typeof value === 'string' ? compileTemplate(value, `${name}.set.${path}`) : value,
  ]);
  return {
    name,
    retry,
    async run(input) {
      if (input === null || typeof input !== 'object') {
        throw new RelayStepError(`${name}: the message is not an object`, { retryable: false });
      }
      let message = input as Record<string, unknown>;
      if (config.pick) {
        const picked: Record<string, unknown> = {};
        for (const path of config.pick) {
          const value = getPath(message, path);
          if (value !== undefined) setPath(picked, path, structuredClone(value));
        }
        message = picked;
      }
      for (const path of config.omit ?? []) deletePath(message, path);
      for (const [from, to] of Object.entries(config.rename ?? {})) {
        const value = getPath(message, from);
        if (value === undefined) continue;
        deletePath(message, from);
        setPath(message, to, value);
      }
      // Templates see the message as it was before `set`, so the order of keys is irrelevant.
      const snapshot = sets.length > 0 ? structuredClone(message) : message;
      for (const [path, value] of sets) {
        let result: unknown;
        try {
          result = typeof value === 'function' ? await (value as Template)(snapshot) : value;
        } catch (error) {
          throw new RelayStepError(`${name}.set.${path}: ${(error as Error).message}`, {
            retryable: false,
            cause: error,
          });
        }
        if (result === undefined) deletePath(message, path);
        else setPath(message, path, result);
      }
      return message;
    },
  };
}
