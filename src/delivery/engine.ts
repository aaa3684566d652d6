import { randomUUID } from 'node:crypto';
import PQueue from 'p-queue';
import type { ServerTarget } from '../url.js';
import { DeliveryError } from './delivery-error.js';
import { type Batch, type BatchBounds, EntryQueue } from './entry-queue.js';
import type { HttpSender, SendResult } from './http-sender.js';
import { type RetryPolicy, retryDelay } from './retry.js';
import { MAX_TIMER_MS, timerDelay, unrefTimeout } from './timers.js';

/** What to do with a new entry when the queue is full. */
export type OverflowPolicy = 'drop-newest' | 'drop-oldest';

/** The header that identifies a request across its retries, so a receiver can drop repeats. */
export const REQUEST_ID_HEADER = 'logstream-request-id';

/** A request body and its headers, built from serialized entries by a protocol encoder. */
export interface EncodedRequest {
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** How a 2xx answer treated the request's entries, for protocols that report per-entry results. */
export interface ResponseVerdict {
  /** Positions (in the request) of entries refused for good: counted as failed. */
  readonly rejected: number;
  /** Positions (in the request) of entries refused for now: sent again, in order, before anything newer. */
  readonly retry: readonly number[];
  /** The server's first explanation, reported once. */
  readonly reason: string | undefined;
}

/** The wire format, as the engine sees it. */
export interface RequestCodec {
  /** Builds a request from entries, in order. */
  encode(lines: readonly string[]): EncodedRequest;
  /** Reads a 2xx answer's body; absent when a 2xx means every entry was accepted. */
  readResponse?(body: string, entryCount: number): ResponseVerdict;
}

/** How entries are grouped into requests: {@link BatchBounds}, and how long a request that is not full waits. */
export interface BatchLimits extends BatchBounds {
  /** How long to wait for more entries before sending a request that is not full (0: send at once). */
  readonly maxDelayMs: number;
}

/** The queue's bounds. */
export interface QueueLimits {
  readonly maxEntries: number;
  readonly maxBytes: number;
  readonly overflow: OverflowPolicy;
}

/** How the engine tells its owner what happened: it never prints or emits anything itself. */
export interface DeliveryObserver {
  /** An attempt failed. `firstOfOutage` is true for the first failure since the last success. */
  onFailure(error: DeliveryError, firstOfOutage: boolean): void;
  /** A 2xx answer refused some entries for good; called for the first such answer only. */
  onRejected(error: DeliveryError): void;
  /** A one-line operator notice (queue full, entries abandoned). */
  onNotice(message: string): void;
  /** Every accepted entry is settled: nothing is queued or in flight. */
  onIdle(): void;
}

/** Everything the engine needs; see {@link DeliveryEngine}. */
export interface DeliveryEngineOptions {
  readonly sender: HttpSender;
  readonly codec: RequestCodec;
  readonly batch: BatchLimits;
  readonly queue: QueueLimits;
  /** `false`: one attempt per request. */
  readonly retry: RetryPolicy | false;
  /**
   * How long a failing transport may keep the process alive, in ms since the start of the first failed attempt
   * (since the last success, or since the engine was last idle). After that, sending and retrying go on only while
   * something else keeps the process running.
   */
  readonly holdProcessMs: number;
  /** Notices one-line reports; see {@link DeliveryObserver}. */
  readonly observer: DeliveryObserver;
  /** Source of jitter, `Math.random` by default. */
  readonly random?: () => number;
}

/** Counts since construction. */
export interface EngineCounts {
  accepted: number;
  delivered: number;
  failed: number;
  dropped: number;
  pending: number;
  /** HTTP attempts made, retries included. */
  requests: number;
  /** Attempts that repeat earlier ones: the same request after a failure, or entries a server asked to have again. */
  retries: number;
}

/** The request being sent: its entries are out of the queue but not yet settled. */
interface InFlight {
  /** Sequence number (in acceptance order) of its first entry. */
  readonly firstSeq: number;
  readonly entries: number;
}

interface FinishWaiter {
  /** Resolved once every entry with a lower sequence number is settled. */
  readonly seq: number;
  readonly resolve: () => void;
}

/**
 * The sidecar: a bounded in-memory queue of serialized entries and a single-concurrency p-queue that sends
 * them one request at a time, in the order they were accepted, retrying the head request until it is
 * delivered or given up. It knows nothing of winston or of wire formats, owns every timer it starts, and
 * keeps no process-wide state.
 *
 * Sequence numbers: the n-th accepted entry has sequence n. The queue always holds the most recently
 * accepted entries, so the lowest unsettled sequence is that of the request in flight, or else of the
 * queue's head; `finish()` waits for it to pass the count accepted at the call.
 *
 * Process lifetime: sockets, retry waits and linger timers are unref'd; one ref'd hold timer keeps the process
 * alive while entries are unsettled, for at most `holdProcessMs` once delivery is failing, and none when idle.
 * A `finish()` waiting with a deadline holds the process until that deadline; one waiting without holds it for good.
 */
export class DeliveryEngine {
  readonly #options: DeliveryEngineOptions;
  readonly #queue = new EntryQueue();
  /** Runs one task per request, one at a time: the task takes the next batch from the queue and sends it. */
  readonly #sidecar = new PQueue({ concurrency: 1 });
  readonly #counts: EngineCounts = {
    accepted: 0,
    delivered: 0,
    failed: 0,
    dropped: 0,
    pending: 0,
    requests: 0,
    retries: 0,
  };
  /** A send task is queued or running and has not yet taken its batch. */
  #taskScheduled = false;
  #inFlight: InFlight | undefined;
  #waiters: FinishWaiter[] = [];
  /** Wakes a lingering task early (a full batch, or a finish() call). */
  #wakeLinger: (() => void) | undefined;
  /** finish() calls waiting: lingering is pointless while someone waits for the queue to drain. */
  #flushing = 0;
  /** Entries dropped in the current overload; reported when the queue has room again. */
  #overloadDrops = 0;
  #outage = false;
  #rejectionReported = false;
  /** A 2xx body too long to read was reported (once per engine). */
  #cutAnswerReported = false;
  /** Start of the first failed attempt since the last success or idle time; bounds how long work holds the process. */
  #failingSince: number | undefined;
  /** The one ref'd handle that keeps the process alive while there is work (sockets and retry timers are unref'd). */
  #holdTimer: NodeJS.Timeout | undefined;
  /**
   * Aborts what is in flight when a deadline abandons it. Shared by every request until then and replaced
   * afterwards: one controller per request would cost more than the rest of the engine's work per request.
   */
  #abandonment = new AbortController();

  constructor(options: DeliveryEngineOptions) {
    this.#options = options;
  }

  /** Counts since construction (a copy). */
  get counts(): Readonly<EngineCounts> {
    return { ...this.#counts };
  }

  /** Entries accepted and not yet settled: queued or in the request being sent. */
  get unsettled(): number {
    return this.#queue.length + (this.#inFlight?.entries ?? 0);
  }

  /**
   * Queues one serialized entry of `size` bytes for `target`, applying the overflow policy.
   * O(1); allocates nothing but a send task when the queue was idle.
   * @returns false when the entry itself was dropped (drop-newest).
   */
  enqueue(line: string, size: number, target: ServerTarget): boolean {
    const limits = this.#options.queue;
    const queue = this.#queue;
    if (queue.length + 1 > limits.maxEntries || queue.bytes + size > limits.maxBytes) {
      if (limits.overflow === 'drop-newest' || size > limits.maxBytes) {
        this.#countDrops(1);
        return false;
      }
      let dropped = 0;
      while (queue.length > 0 && (queue.length + 1 > limits.maxEntries || queue.bytes + size > limits.maxBytes)) {
        queue.dropOldest();
        dropped++;
      }
      this.#countDrops(dropped);
    }
    queue.push(line, size, target);
    this.#counts.accepted++;
    if (this.#holdTimer === undefined && this.#failingSince === undefined) this.#holdProcess();
    if (!this.#taskScheduled) this.#scheduleTask();
    else if (this.#wakeLinger !== undefined && this.#batchIsFull()) this.#wakeLinger();
    return true;
  }

  /**
   * Resolves once every entry accepted before the call is delivered or given up, or at `timeoutMs`:
   * then everything still queued or in flight is abandoned and counted as pending.
   * @param timeoutMs - `Infinity` waits as long as it takes.
   */
  finish(timeoutMs: number): Promise<void> {
    const seq = this.#counts.accepted;
    if (this.#lowestUnsettledSeq() >= seq) return Promise.resolve();
    return new Promise<void>((resolve) => {
      // A caller waiting without a deadline keeps the process alive, whatever the hold budget says.
      const timer = Number.isFinite(timeoutMs)
        ? setTimeout(() => this.#abandon(), timerDelay(timeoutMs))
        : setInterval(() => undefined, MAX_TIMER_MS);
      this.#flushing++;
      this.#wakeLinger?.();
      this.#waiters.push({
        seq,
        resolve: () => {
          clearTimeout(timer);
          this.#flushing--;
          resolve();
        },
      });
    });
  }

  /** Gives up everything queued or in flight, counting it as pending, and resolves every finish() waiter. */
  #abandon(): void {
    const abandoned = this.unsettled;
    if (this.#inFlight !== undefined) {
      this.#abandonment.abort();
      this.#abandonment = new AbortController();
      this.#inFlight = undefined;
    }
    this.#queue.clear();
    this.#counts.pending += abandoned;
    if (abandoned > 0) {
      this.#options.observer.onNotice(`${abandoned} log entries were not delivered before the deadline`);
    }
    this.#endOverload();
    this.#settle();
    this.#becomeIdle();
  }

  /** Nothing is queued or in flight: release the process and start the next outage's hold budget afresh. */
  #becomeIdle(): void {
    this.#failingSince = undefined;
    this.#holdProcess();
    this.#options.observer.onIdle();
  }

  /**
   * Keeps the process alive while entries are unsettled, for at most `holdProcessMs` once delivery is failing.
   * Called when work starts, when delivery starts failing or recovers, and when the engine goes idle.
   */
  #holdProcess(): void {
    clearTimeout(this.#holdTimer);
    this.#holdTimer = undefined;
    if (this.unsettled === 0) return;
    const left =
      this.#failingSince === undefined ? MAX_TIMER_MS : this.#failingSince + this.#options.holdProcessMs - Date.now();
    if (left > 0) this.#holdTimer = setTimeout(() => this.#holdProcess(), timerDelay(left));
  }

  #countDrops(dropped: number): void {
    if (dropped === 0) return;
    if (this.#overloadDrops === 0) this.#options.observer.onNotice('queue full, dropping log entries');
    this.#overloadDrops += dropped;
    this.#counts.dropped += dropped;
    // Dropping the oldest settles entries below any finish() target.
    if (this.#options.queue.overflow === 'drop-oldest') this.#settle();
  }

  /** Ends an overload once the queue has drained to half its bounds, with one line that counts its drops. */
  #maybeEndOverload(): void {
    const limits = this.#options.queue;
    if (this.#queue.length <= limits.maxEntries / 2 && this.#queue.bytes <= limits.maxBytes / 2) this.#endOverload();
  }

  #endOverload(): void {
    if (this.#overloadDrops === 0) return;
    this.#options.observer.onNotice(`queue has room again; ${this.#overloadDrops} log entries were dropped`);
    this.#overloadDrops = 0;
  }

  #batchIsFull(): boolean {
    const { maxEntries, maxBytes } = this.#options.batch;
    return this.#queue.length >= maxEntries || this.#queue.bytes >= maxBytes;
  }

  #scheduleTask(): void {
    this.#taskScheduled = true;
    void this.#sidecar.add(() => this.#sendNextBatch());
  }

  #lowestUnsettledSeq(): number {
    return this.#inFlight?.firstSeq ?? this.#counts.accepted - this.#queue.length;
  }

  /** Resolves the finish() waiters whose entries are all settled. */
  #settle(): void {
    if (this.#waiters.length === 0) return;
    const lowest = this.#lowestUnsettledSeq();
    const waiting: FinishWaiter[] = [];
    for (const waiter of this.#waiters) {
      if (waiter.seq <= lowest) waiter.resolve();
      else waiting.push(waiter);
    }
    this.#waiters = waiting;
  }

  /** One p-queue task: waits out `maxDelayMs` for a fuller batch, takes it, schedules the next task, sends. */
  async #sendNextBatch(): Promise<void> {
    await this.#linger();
    const firstSeq = this.#lowestUnsettledSeq();
    const batch = this.#queue.take(this.#options.batch);
    this.#taskScheduled = false;
    if (batch === undefined) return; // abandoned while lingering
    this.#maybeEndOverload();
    const inFlight: InFlight = { firstSeq, entries: batch.lines.length };
    this.#inFlight = inFlight;
    if (this.#queue.length > 0) this.#scheduleTask();
    const { signal } = this.#abandonment;
    try {
      await this.#deliver(batch, signal);
    } catch (error) {
      // #deliver handles every outcome; reaching here is a bug, but it must not stop the sidecar.
      this.#options.observer.onNotice(`internal error: ${(error as Error).message}`);
      if (!signal.aborted) this.#counts.failed += batch.lines.length;
    }
    if (this.#inFlight === inFlight) this.#inFlight = undefined;
    this.#settle();
    if (this.unsettled === 0) this.#becomeIdle();
  }

  async #linger(): Promise<void> {
    const { maxDelayMs } = this.#options.batch;
    if (maxDelayMs <= 0 || this.#flushing > 0 || this.#batchIsFull()) return;
    await new Promise<void>((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.#wakeLinger = undefined;
        resolve();
      };
      const timer = unrefTimeout(wake, maxDelayMs);
      this.#wakeLinger = wake;
    });
  }

  /**
   * Sends one batch until all its entries are delivered, refused for good, given up, or abandoned (signal
   * aborted). Entries a 2xx answer asks to have again are resent first, as a new request, before anything newer.
   */
  async #deliver(batch: Batch, signal: AbortSignal): Promise<void> {
    const { sender, codec } = this.#options;
    const started = Date.now();
    let lines = batch.lines;
    /** Attempts made for these entries so far: every one after the first is a retry, and sets the backoff. */
    let attempts = 0;
    while (lines.length > 0) {
      const encoded = codec.encode(lines);
      const request = await sender.prepare(batch.target, encoded.body, encoded.headers, lines.length);
      const idHeaders = { [REQUEST_ID_HEADER]: randomUUID() };
      let resend: string[];
      for (;;) {
        if (signal.aborted) return;
        this.#counts.requests++;
        if (attempts++ > 0) this.#counts.retries++;
        const attemptStarted = Date.now();
        const result = await sender.send(request, idHeaders, signal);
        if (signal.aborted) return;
        if (result.ok) {
          this.#recovered();
          resend = this.#countAnswer(batch.target, lines, result.body, result.bodyCut);
          break;
        }
        this.#failed(result.error, attemptStarted);
        if (result.error.statusCode === 413 && lines.length > 1) {
          await this.#sendHalves({ target: batch.target, lines }, signal);
          return;
        }
        const delay = this.#retryDelay(result, attempts - 1, started);
        if (delay === undefined) {
          this.#counts.failed += lines.length;
          return;
        }
        await this.#sleep(delay, signal);
      }
      if (resend.length === 0) return;
      const delay = this.#retryDelay({ retryable: true, retryAfterMs: undefined }, attempts - 1, started);
      if (delay === undefined) {
        this.#counts.failed += resend.length;
        return;
      }
      await this.#sleep(delay, signal);
      lines = resend;
    }
  }

  /** A 2xx answer: the outage, if any, is over. */
  #recovered(): void {
    this.#outage = false;
    if (this.#failingSince === undefined) return;
    this.#failingSince = undefined;
    this.#holdProcess();
  }

  /** A failed attempt: reported (on stderr only if it is the first of an outage), and the hold budget starts. */
  #failed(error: DeliveryError, attemptStarted: number): void {
    this.#options.observer.onFailure(error, !this.#outage);
    this.#outage = true;
    if (this.#failingSince !== undefined) return;
    this.#failingSince = attemptStarted;
    this.#holdProcess();
  }

  /** A 413 for a batch: send each half as its own request, first half first. */
  async #sendHalves(batch: Batch, signal: AbortSignal): Promise<void> {
    const middle = Math.ceil(batch.lines.length / 2);
    for (const lines of [batch.lines.slice(0, middle), batch.lines.slice(middle)]) {
      await this.#deliver({ target: batch.target, lines }, signal);
    }
  }

  /**
   * Counts a 2xx answer's entries as delivered, or, for protocols that report per entry, as delivered,
   * failed, or to be sent again.
   * A body cut at the sender's bound is not read: it is no answer the protocol gives to this request, and the
   * status said 2xx, so every entry counts as delivered (said once, as a notice).
   * @returns the entries to send again, in order.
   */
  #countAnswer(target: ServerTarget, lines: string[], body: string, bodyCut: boolean): string[] {
    const { readResponse } = this.#options.codec;
    if (bodyCut && readResponse !== undefined && !this.#cutAnswerReported) {
      this.#cutAnswerReported = true;
      this.#options.observer.onNotice(
        `${target.displayUrl} answered 2xx with a body longer than the protocol's answers, cut unread: ${lines.length} entries counted as delivered without per-entry results`,
      );
    }
    const verdict = bodyCut ? undefined : readResponse?.(body, lines.length);
    if (verdict === undefined) {
      this.#counts.delivered += lines.length;
      return [];
    }
    const { rejected, retry, reason } = verdict;
    this.#counts.delivered += lines.length - rejected - retry.length;
    this.#counts.failed += rejected;
    if (rejected > 0 && !this.#rejectionReported) {
      this.#rejectionReported = true;
      this.#options.observer.onRejected(
        new DeliveryError({
          code: 'REJECTED',
          url: target.displayUrl,
          entries: rejected,
          reason: `the server rejected ${rejected} of ${lines.length} entries: ${reason ?? 'no reason given'}`,
        }),
      );
    }
    return retry.map((i) => lines[i] as string);
  }

  /** The wait before the next attempt, or undefined when the request is given up. */
  #retryDelay(
    failure: Pick<Extract<SendResult, { ok: false }>, 'retryable' | 'retryAfterMs'>,
    attempt: number,
    started: number,
  ): number | undefined {
    const policy = this.#options.retry;
    if (policy === false || !failure.retryable) return undefined;
    const delay = retryDelay(attempt, failure.retryAfterMs, policy, this.#options.random);
    if (Date.now() + delay - started > policy.maxElapsedMs) return undefined;
    return delay;
  }

  /** Waits `ms` unless aborted. The timer is unref'd: whether the process waits for it is up to the hold timer. */
  #sleep(ms: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', wake);
        resolve();
      };
      const timer = unrefTimeout(wake, ms);
      signal.addEventListener('abort', wake, { once: true });
    });
  }
}
