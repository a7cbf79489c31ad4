/**
 * The minimal shape of a domain event: a discriminating `type` and its `data`. Recorded
 * events (`RecordedEvent`) have these two fields plus the store's envelope, so a function
 * written against `{ type, data }` also accepts what the store returns.
 */
export interface DomainEvent<TType extends string = string, TData = unknown> {
  type: TType;
  data: TData;
}

/** What `decide` may return: one event, several, or none (`[]`), synchronously or not. */
export type DecideResult<Event> = Event | readonly Event[];

/**
 * The functional way to model an aggregate: a pure `decide` that turns a command and the
 * current state into new events, and a pure `evolve` that folds one event into the state.
 *
 * `evolve` is typed against your event union (`{ type, data }`). When a command handler
 * loads a stream it passes the recorded events themselves, which carry the same `type` and
 * `data` plus `id`, `metadata`, `version`, `position`…, so reading the envelope is possible
 * (cast to `Recorded<Event>`) but never required.
 *
 * Throw from `decide` (ideally a `CommandRejectedError`) to refuse a command.
 *
 * @example
 * type CartEvent =
 *   | { type: 'ItemAdded'; data: { sku: string; quantity: number } }
 *   | { type: 'CartCheckedOut'; data: { at: string } };
 * type CartCommand = { type: 'AddItem'; sku: string; quantity: number } | { type: 'CheckOut' };
 * type Cart = { items: Record<string, number>; checkedOut: boolean };
 *
 * const cart: Decider<Cart, CartCommand, CartEvent> = {
 *   initialState: () => ({ items: {}, checkedOut: false }),
 *   decide(command, state) {
 *     if (state.checkedOut) throw new CommandRejectedError('The cart is already checked out');
 *     return command.type === 'AddItem'
 *       ? { type: 'ItemAdded', data: { sku: command.sku, quantity: command.quantity } }
 *       : { type: 'CartCheckedOut', data: { at: new Date().toISOString() } };
 *   },
 *   evolve(state, event) {
 *     switch (event.type) {
 *       case 'ItemAdded': {
 *         const { sku, quantity } = event.data;
 *         return { ...state, items: { ...state.items, [sku]: (state.items[sku] ?? 0) + quantity } };
 *       }
 *       case 'CartCheckedOut':
 *         return { ...state, checkedOut: true };
 *     }
 *   },
 * };
 */
export interface Decider<State, Command, Event extends DomainEvent> {
  decide(command: Command, state: State): DecideResult<Event> | Promise<DecideResult<Event>>;
  evolve(state: State, event: Event): State;
  initialState(): State;
}

/** The state type of a decider. */
export type DeciderState<D> = D extends Decider<infer S, infer _C, infer _E> ? S : never;
/** The command type of a decider. */
export type DeciderCommand<D> = D extends Decider<infer _S, infer C, infer _E> ? C : never;
/** The event type of a decider. */
export type DeciderEvent<D> = D extends Decider<infer _S, infer _C, infer E> ? E : never;
