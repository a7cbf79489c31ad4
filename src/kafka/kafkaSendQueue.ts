interface Group<M> {
  readonly messages: M[];
  readonly callers: { resolve(): void; reject(error: unknown): void }[];
}

/**
 * Keeps one produce request in flight per idempotent producer. @platformatic/kafka takes a
 * partition's next sequence number when it builds a request and advances it only when the
 * response arrives, so two requests in flight to one partition carry the same sequence
 * numbers: the broker takes the second for a retry of the first and acknowledges it without
 * writing it (or refuses it as out of order). Callers that arrive while a request is in
 * flight wait; with `merge` they share the next request, each settled with it.
 */
export class KafkaSendQueue<M> {
  readonly #send: (messages: M[]) => Promise<void>;
  readonly #merge: boolean;
  readonly #waiting: Group<M>[] = [];
  #running = false;

  /** `send` makes one request and, when it fails, leaves the producer ready to start afresh. */
  constructor(send: (messages: M[]) => Promise<void>, options: { merge: boolean }) {
    this.#send = send;
    this.#merge = options.merge;
  }

  /** Resolves once the request carrying `messages` is acknowledged; rejects with its error. */
  push(messages: readonly M[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const last = this.#waiting.at(-1);
      if (this.#merge && last !== undefined) {
        last.messages.push(...messages);
        last.callers.push({ resolve, reject });
      } else {
        this.#waiting.push({ messages: [...messages], callers: [{ resolve, reject }] });
      }
      if (!this.#running) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#running = true;
    for (let group = this.#waiting.shift(); group; group = this.#waiting.shift()) {
      try {
        await this.#send(group.messages);
        for (const caller of group.callers) caller.resolve();
      } catch (error) {
        for (const caller of group.callers) caller.reject(error);
      }
    }
    this.#running = false;
  }
}
