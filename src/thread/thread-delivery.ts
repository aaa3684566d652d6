/**
 * A transport's delivery in the sidecar worker thread, seen from the application's thread: entries are handed to
 * the worker through the ring, and the engine's counts come back once per turn of the worker's event loop. Each
 * entry is also kept here until the worker reports it settled, so that if the worker dies, what it had not
 * settled is delivered in-process instead (at least once: a request in flight when it died may arrive twice).
 * @module
 */
import type { DeliveryObserver, DeliveryReport, EngineCounts } from '../delivery/engine.js';
import { createEngine, type EngineParts, type EngineSettings } from '../engine-setup.js';
import { errorCodeOf } from '../delivery/error-code.js';
import { unrefTimeout } from '../delivery/timers.js';
import type { ServerTarget } from '../url.js';
import { RecordKind } from './entry-ring.js';
import { RetainedEntries } from './retained-entries.js';
import type { StreamState } from './messages.js';
import { type Sidecar, sidecar, type StreamClient } from './sidecar.js';

/** What a transport needs of its delivery, in-process ({@link DeliveryEngine}) or in the worker. */
export interface Delivery {
  /**
   * Queues one serialized entry of `size` bytes for `target`, accepted at `nowMs`.
   * @returns false when the entry itself was dropped.
   */
  enqueue(line: string, size: number, target: ServerTarget, nowMs: number): boolean;
  /** Resolves once every entry accepted before the call is settled, or at `timeoutMs`. */
  finish(timeoutMs: number): Promise<void>;
  /** Counts since construction. */
  readonly counts: Readonly<EngineCounts>;
  /** Entries accepted and not yet settled. */
  readonly unsettled: number;
  /** How long the oldest unsettled entry has waited at `nowMs`, in ms; 0 when there is none. */
  oldestAgeMs(nowMs: number): number;
}

const NO_STATE: StreamState = {
  stream: 0,
  counts: { recovered: 0, spooled: 0, delivered: 0, failed: 0, dropped: 0, pending: 0, requests: 0, retries: 0 },
  unsettled: 0,
  oldestAcceptedAtMs: 0,
  received: 0,
  receivedBytes: 0,
  settledReceived: 0,
  settledAhead: [],
  holding: false,
  failing: false,
};

/** How long past its deadline a `finish()` waits for the worker's answer before resolving without it. */
const UNANSWERED_FINISH_GRACE_MS = 1000;

/** A `finish()` call waiting for the worker. */
interface Waiter {
  readonly resolve: () => void;
  readonly deadline: number;
}

/** Delivery by the process's sidecar worker; see the module comment. */
export class ThreadDelivery implements Delivery, StreamClient {
  readonly #settings: EngineSettings;
  readonly #observer: DeliveryObserver;
  #sidecar: Sidecar | undefined;
  #stream: number;
  /** Closed (settled, and its transport closed or ended): the worker no longer has its stream. */
  #closed = false;
  /** The counts of the streams closed before this one: a closed transport given entries again opens a new one. */
  #closedCounts: EngineCounts | undefined;
  #state = NO_STATE;
  /** The last target written to the ring. */
  #target: ServerTarget | undefined;
  #written = 0;
  #writtenBytes = 0;
  /** Entries dropped here because the worker was not taking them in. */
  #dropped = 0;
  /** Dropping now: the notice is printed once per episode. */
  #dropping = false;
  /** Entries written and not yet reported settled, numbered in the order written. */
  #retained = new RetainedEntries();
  readonly #waiters = new Map<number, Waiter>();
  #nextCall = 1;
  /** After the worker died: delivery in-process, counting on from the worker's last counts. */
  #fallback: EngineParts | undefined;
  #wasBusy = false;

  /** @param observer - told on the application's thread, as an in-process engine would tell it. */
  constructor(settings: EngineSettings, observer: DeliveryObserver) {
    this.#settings = settings;
    this.#observer = observer;
    this.#stream = this.#openStream();
  }

  /**
   * Opens this transport's stream in the process's sidecar worker; when the worker cannot be started (a bundle
   * without its file), delivers in-process from the start, with one stderr line.
   */
  #openStream(): number {
    try {
      this.#sidecar = sidecar();
    } catch (error) {
      this.#fallBack(`the delivery thread could not start${because(errorCodeOf(error))}; delivering in-process`, true);
      return 0;
    }
    return this.#sidecar.open(this.#settings, this);
  }

  get counts(): Readonly<EngineCounts> {
    const counts = addCounts(this.#state.counts, this.#closedCounts);
    const fallback = this.#fallback?.engine.counts;
    if (fallback === undefined) return { ...counts, dropped: counts.dropped + this.#dropped };
    const sum = { ...counts };
    for (const key of Object.keys(sum) as (keyof EngineCounts)[]) sum[key] += fallback[key];
    sum.dropped += this.#dropped;
    return sum;
  }

  get unsettled(): number {
    if (this.#fallback !== undefined) return this.#fallback.engine.unsettled;
    return this.#inTransit + this.#state.unsettled;
  }

  /** Entries written to the worker and not yet read by it. */
  get #inTransit(): number {
    return this.#written - this.#state.received;
  }

  oldestAgeMs(nowMs: number): number {
    if (this.#fallback !== undefined) return this.#fallback.engine.oldestAgeMs(nowMs);
    if (this.#state.unsettled > 0) return Math.max(0, nowMs - this.#state.oldestAcceptedAtMs);
    if (this.#inTransit === 0) return 0;
    return Math.max(0, nowMs - this.#retained.acceptedAtMs(this.#state.received));
  }

  enqueue(line: string, size: number, target: ServerTarget, nowMs: number): boolean {
    if (this.#fallback !== undefined) return this.#fallback.engine.enqueue(line, size, target, nowMs);
    if (this.#closed) this.#reopen();
    const side = this.#sidecar as Sidecar;
    // The worker applies the queue's limits and overflow policy as it takes entries in. What waits for it beyond
    // the ring (while it is busy or stuck) is bounded by the same limits, counting every entry not yet reported
    // taken in (reports come between turns of this thread's event loop, so a burst within a turn counts whole:
    // hence only once the ring is full).
    const { maxEntries, maxBytes } = this.#settings.queue;
    const waiting = this.#writtenBytes - this.#state.receivedBytes + size;
    if (side.overflowing && (this.#inTransit >= maxEntries || waiting > maxBytes)) return this.#drop();
    this.#dropping = false;
    if (target !== this.#target) {
      const json = JSON.stringify(target);
      side.write(RecordKind.Target, this.#stream, nowMs, json, Buffer.byteLength(json));
      this.#target = target;
    }
    side.write(RecordKind.Entry, this.#stream, nowMs, line, size);
    this.#retained.push(line, size, target, nowMs);
    this.#written++;
    this.#writtenBytes += size;
    if (this.#written - this.#state.received === 1) this.#busy();
    return true;
  }

  finish(timeoutMs: number): Promise<void> {
    if (this.#fallback !== undefined) return this.#fallback.engine.finish(timeoutMs);
    // Closed only once settled; and the worker no longer answers for the stream.
    if (this.#closed) return Promise.resolve();
    // Asked even when nothing seems unsettled: the worker may hold entries not yet reported (recovered from the
    // spool as the engine was made).
    const call = this.#nextCall++;
    const settled = new Promise<void>((resolve) => {
      this.#waiters.set(call, { resolve, deadline: Date.now() + timeoutMs });
    });
    // The worker resolves the call at its deadline; this bounds the wait should the worker not answer (stuck).
    if (timeoutMs !== Infinity) {
      const timer = unrefTimeout(() => this.onFinished(call), timeoutMs + UNANSWERED_FINISH_GRACE_MS);
      void settled.then(() => clearTimeout(timer));
    }
    (this.#sidecar as Sidecar).finish(this.#stream, call, timeoutMs);
    this.#sidecar?.updateHold();
    return settled;
  }

  /**
   * The transport is gone and settled: its engine in the worker is dropped. A `finish()` still waiting is done (the
   * worker's answer would find no stream to go to).
   */
  close(): void {
    if (this.#closed || this.#fallback !== undefined) return;
    this.#sidecar?.close(this.#stream);
    this.#closed = true;
    for (const waiter of this.#waiters.values()) waiter.resolve();
    this.#waiters.clear();
  }

  /**
   * A closed transport is given entries again (winston added it to a logger again): a new stream, with a new engine
   * in the worker (the current one: the one it was closed in may have stopped since), counting on from this one's.
   */
  #reopen(): void {
    this.#closedCounts = addCounts(this.#state.counts, this.#closedCounts);
    this.#state = NO_STATE;
    this.#target = undefined;
    this.#written = 0;
    this.#writtenBytes = 0;
    this.#retained = new RetainedEntries();
    this.#closed = false;
    this.#stream = this.#openStream();
  }

  /** Which stream of the sidecar this is (for the drain at exit); `undefined` once closed or after the worker died. */
  get stream(): number | undefined {
    return this.#fallback === undefined && !this.#closed ? this.#stream : undefined;
  }

  /** The in-process engine, once the worker died (for the drain at exit). */
  get fallback(): EngineParts | undefined {
    return this.#fallback;
  }

  onState(state: StreamState): void {
    this.#state = state;
    this.#retained.releaseBelow(state.settledReceived);
    if (state.settledAhead.length > 0) this.#retained.discard(state.settledAhead);
    if (this.unsettled === 0 && this.#wasBusy) {
      this.#wasBusy = false;
      this.#observer.onIdle();
    }
  }

  onReport(report: DeliveryReport): void {
    // Idle is told from the states, which count what is still on its way to the worker.
    if (report.type === 'onIdle') return;
    (this.#observer[report.type] as (...args: typeof report.args) => void)(...report.args);
  }

  onFinished(call: number): void {
    const waiter = this.#waiters.get(call);
    if (waiter === undefined) return;
    this.#waiters.delete(call);
    waiter.resolve();
    this.#sidecar?.updateHold();
  }

  holdsProcess(): boolean {
    return this.#waiters.size > 0 || this.#inTransit > 0 || this.#state.holding;
  }

  onWorkerLost(why: string | undefined): void {
    this.#fallBack(
      `the delivery thread stopped${because(why)}; delivering in-process from now on (entries it had not settled are sent again)`,
    );
  }

  /**
   * At exit, when the worker did not hand its entries back in time (still starting, or stuck): delivery goes
   * in-process from here, so that the drain at exit sends what this side kept (if it kept anything).
   */
  fallBackAtExit(): void {
    if (this.#fallback !== undefined || this.#retained.length === 0) return;
    this.#fallBack('the delivery thread did not answer at exit; its entries are sent from the application thread');
  }

  /**
   * Delivers in-process from now on, starting with every entry the worker had not reported settled.
   * @param withSpool - the worker never ran, so the spool is not its: the in-process engine opens it.
   */
  #fallBack(notice: string, withSpool = false): void {
    this.#sidecar = undefined;
    this.#observer.onNotice(notice);
    // What this side kept was accepted already (the request in flight included, which the queue's limits do not
    // count): the fallback's queue takes it all, on top of its limits. The spool's lock is still this process's:
    // the fallback runs without it (the spool keeps its records for the next run).
    const { queue } = this.#settings;
    const limits = {
      ...queue,
      maxEntries: queue.maxEntries + this.#retained.length,
      maxBytes: queue.maxBytes + this.#retained.bytes,
    };
    const spool = withSpool ? this.#settings.spool : undefined;
    // Mid-outage, the worker reported its first failure already: the fallback does not say it again.
    const fallback = createEngine(
      { ...this.#settings, spool, queue: limits, failing: this.#state.failing },
      this.#observer,
    );
    // The worker's unsettled entries that this side did not keep were recovered from the spool: they stay there,
    // for the next run.
    const leftInSpool = Math.max(0, this.#state.unsettled - (this.#retained.length - this.#inTransit));
    const { counts } = this.#state;
    this.#state = {
      ...this.#state,
      counts: { ...counts, spooled: counts.spooled + leftInSpool },
      unsettled: 0,
      holding: false,
    };
    this.#fallback = fallback;
    this.#retained.takeAll((line, size, target, acceptedAtMs) =>
      fallback.engine.enqueue(line, size, target, acceptedAtMs),
    );
    const now = Date.now();
    for (const waiter of this.#waiters.values()) {
      void fallback.engine.finish(Math.max(0, waiter.deadline - now)).then(waiter.resolve);
    }
    this.#waiters.clear();
  }

  #busy(): void {
    this.#wasBusy = true;
    this.#sidecar?.updateHold();
  }

  /** Drops the entry being logged: the worker is not taking entries in as fast as they come (the ring is full). */
  #drop(): false {
    this.#dropped++;
    if (!this.#dropping) this.#observer.onNotice('the delivery thread is not taking entries in; dropping log entries');
    this.#dropping = true;
    return false;
  }
}

/** `counts` plus `more`, when there are more. */
export function addCounts(counts: Readonly<EngineCounts>, more: Readonly<EngineCounts> | undefined): EngineCounts {
  const sum = { ...counts };
  if (more !== undefined) for (const key of Object.keys(sum) as (keyof EngineCounts)[]) sum[key] += more[key];
  return sum;
}

/** ` (CODE)`, for a notice, or nothing. */
function because(code: string | undefined): string {
  return code === undefined ? '' : ` (${code})`;
}
