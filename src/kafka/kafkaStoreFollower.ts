import type { CheckpointStore, EventStore, RecordedEvent, Subscription } from '../core/types.js';
import type { PublisherConfig } from './kafkaPublisherOptions.js';
import type { KafkaPublisherNotice, KafkaPublisherStatus } from './kafkaPublisherTypes.js';

export interface StoreFollowing {
  config: Pick<PublisherConfig, 'name' | 'from' | 'batchSize' | 'pollIntervalMs'>;
  /** The store in the form that is published (personal fields sealed). */
  store: EventStore;
  /** Gets the starting position and the head; its state becomes `catching-up`. */
  status: KafkaPublisherStatus;
  /** Takes each event in log order; the subscription waits while it does. */
  handler: (event: RecordedEvent) => Promise<void> | undefined;
  /** Takes the events of one read at once, when no per-event span is to be made. */
  handleBatch: (events: readonly RecordedEvent[]) => Promise<void> | undefined;
  onCaughtUp: (position: number) => void;
  onNotice: (notice: KafkaPublisherNotice) => void;
}

/** Most events the publisher reads from the store at once. */
const READ_PAGE = 500;

/**
 * Starts the publisher's durable subscription on the store, from its checkpoint (or `from`
 * the first time, which is stored at once). The subscription only buffers: the publisher
 * stores the positions Kafka acknowledged as the checkpoint itself.
 */
export async function followStore(f: StoreFollowing): Promise<Subscription> {
  const { config, store, status } = f;
  const { name, from } = config;
  const checkpoints = store.checkpoints;
  const checkpoint = await checkpoints.load(name);
  if (checkpoint === undefined && from !== 'start' && !(typeof from === 'number' && from <= 1)) {
    // Store the starting point, so a publisher stopped before its first event still starts there.
    const startAt = from === 'end' ? await store.headPosition() : from - 1;
    await checkpoints.save(name, startAt);
    status.position = status.checkpoint = startAt;
  } else if (checkpoint !== undefined) {
    status.position = status.checkpoint = checkpoint;
  }
  status.headPosition = Math.max(status.position, await store.headPosition());
  status.lag = status.headPosition - status.position;
  status.state = 'catching-up';
  const subscriptionCheckpoints: CheckpointStore = {
    load: (n) => checkpoints.load(n),
    // The publisher stores acknowledged positions itself; the subscription's "handled" only means buffered.
    save: async () => undefined,
    reset: (n) => checkpoints.reset(n),
    park: (entry) => checkpoints.park(entry),
    listParked: (s) => checkpoints.listParked(s),
    unpark: (s, id) => checkpoints.unpark(s, id),
  };
  return store.subscribe({
    name,
    from: 'start',
    // Pages smaller than a produce request: fewer events alive at once while one is buffered
    // (cheaper young-generation GC), and the flusher gets a turn between pages.
    batchSize: Math.min(config.batchSize, READ_PAGE),
    checkpoints: subscriptionCheckpoints,
    onPoison: 'stop',
    pollIntervalMs: config.pollIntervalMs,
    handler: f.handler,
    handleBatch: f.handleBatch,
    // The messages copy the stored JSON text of each event (see toKafkaRecord).
    storedJson: true,
    onEvent: (n) => {
      if (n.kind === 'caught-up') f.onCaughtUp(n.position);
      else if (n.kind === 'read-failed') f.onNotice({ ...n, publisher: name });
    },
  });
}
