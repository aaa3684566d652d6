import { randomUUID } from 'node:crypto';
import type { ServerTarget } from '../url.js';
import type { RequestCodec } from './codec.js';
import { DeliveryError } from './delivery-error.js';
import type { Batch } from './entry-queue.js';
import type { HttpSender, SendResult } from './http-sender.js';
import { type RetryPolicy, retryDelay } from './retry.js';
import { unrefTimeout } from './timers.js';

/** The header that identifies a request across its retries, so a receiver can drop repeats. */
export const REQUEST_ID_HEADER = 'logstream-request-id';

/** What sends requests: {@link HttpSender}, or a scripted stand-in in tests. */
export type Sender = Pick<HttpSender, 'prepare' | 'send' | 'redact'>;

/** One batch being delivered: where its entries' outcomes are counted, and the signal that abandons it. */
export interface Flight {
  /** Aborted when a deadline abandons the batch: the loop then stops at once and counts nothing more. */
  readonly signal: AbortSignal;
  /** `entries` of the batch were accepted by the server. */
  delivered(entries: number): void;
  /** `entries` of the batch were refused for good or ran out of retries. */
  failed(entries: number): void;
  /**
   * The request being sent or waiting to be retried, with its request id, for the drain at exit; `undefined`
   * between requests. Set by the loop.
   */
  attempt?: FlightAttempt | undefined;
}

/**
 * The entries of the request being attempted (or waiting to be sent again), and its request id; with `after`, the
 * batch's other entries still to be sent after it: together, in order, every unsettled entry of the batch.
 */
export interface FlightAttempt extends FlightPart {
  readonly target: ServerTarget;
  readonly requestId: string;
  /** The later halves of a 413 split, to be sent after this request, in order. */
  readonly after: readonly FlightPart[];
}

/** Entries of a flight's batch, in order. */
export interface FlightPart {
  readonly lines: readonly string[];
  /**
   * Where each of them is in the batch: the entries of the batch in no part left to send are settled (a 413
   * split's earlier halves, or those of a 2xx answer not asked for again).
   */
  readonly positions: readonly number[];
}

/** What the loop reports besides the outcomes of entries. */
export interface RequestLoopEvents {
  /** An attempt is about to be made; `retry` when it repeats an earlier one. */
  onAttempt(retry: boolean): void;
  /** An attempt that started at `attemptStartedMs` failed. */
  onFailure(error: DeliveryError, attemptStartedMs: number): void;
  /** An attempt got a 2xx answer. */
  onSuccess(): void;
  /** A 2xx answer refused some entries for good. */
  onRejected(error: DeliveryError): void;
  /** A one-line operator notice (an answer whose results were cut off). */
  onNotice(message: string): void;
}

/** What {@link RequestLoop} needs. */
export interface RequestLoopOptions {
  readonly sender: Sender;
  readonly codec: RequestCodec;
  /** `false`: one attempt per request. */
  readonly retry: RetryPolicy | false;
  readonly events: RequestLoopEvents;
  /** The clock, `Date.now` by default. */
  readonly now?: () => number;
  /** Source of jitter, `Math.random` by default. */
  readonly random?: () => number;
}

type Failure = Pick<Extract<SendResult, { ok: false }>, 'retryable' | 'retryAfterMs'>;

/** Entries a 2xx answer asked to have again: retried like a failure that names no `Retry-After`. */
const RESEND: Failure = { retryable: true, retryAfterMs: undefined };

/**
 * Delivers one batch: sends it, retries it with backoff until it is delivered or given up, halves it on a 413,
 * and sends again, first, the entries a 2xx answer asks to have again. It knows nothing of queues or deadlines:
 * a flight's signal abandons it.
 */
export class RequestLoop {
  readonly #options: RequestLoopOptions;
  readonly #now: () => number;
  /** A 2xx body too long to read was reported (once per loop). */
  #cutAnswerReported = false;

  constructor(options: RequestLoopOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** Sends `batch` until each of its entries is counted on `flight` as delivered or failed, or the flight is abandoned. */
  deliver(batch: Batch, flight: Flight): Promise<void> {
    const whole = { lines: batch.lines, positions: batch.lines.map((_, i) => i) };
    return this.#deliver(batch.target, whole, flight, []);
  }

  /** {@link deliver} for `part` of the flight's batch, with `after` its parts to send next (see {@link FlightAttempt}). */
  async #deliver(target: ServerTarget, part: FlightPart, flight: Flight, after: readonly FlightPart[]): Promise<void> {
    const { sender, codec, events } = this.#options;
    const { signal } = flight;
    const started = this.#now();
    let { lines, positions } = part;
    let requestId = randomUUID();
    /** Attempts made for these entries so far: every one after the first is a retry, and sets the backoff. */
    let attempts = 0;
    while (lines.length > 0) {
      flight.attempt = { target, lines, positions, requestId, after };
      const encoded = codec.encode(lines);
      const request = await sender.prepare(target, encoded.body, encoded.headers, lines.length);
      const idHeaders = { [REQUEST_ID_HEADER]: requestId };
      let resend: readonly string[];
      for (;;) {
        if (signal.aborted) return;
        events.onAttempt(attempts++ > 0);
        const attemptStarted = this.#now();
        const result = await sender.send(request, idHeaders, signal);
        if (signal.aborted) return;
        if (result.ok) {
          events.onSuccess();
          const answer = this.#countAnswer(flight, target, lines, result.body, result.bodyCut);
          resend = answer.resend;
          // What is left of the flight is set before the rejection is reported: an observer may end the process,
          // and the drain at exit takes it from there. The entries to send again go in a new request.
          if (resend.length > 0) {
            requestId = randomUUID();
            positions = answer.retry.map((i) => positions[i] as number);
          }
          flight.attempt =
            resend.length > 0 ? { target, lines: resend, positions, requestId, after } : nextHalf(target, after);
          if (answer.rejection !== undefined) events.onRejected(answer.rejection);
          break;
        }
        events.onFailure(result.error, attemptStarted);
        if (result.error.statusCode === 413 && lines.length > 1) {
          await this.#sendHalves(target, { lines, positions }, flight, after);
          return;
        }
        const delay = this.#retryDelay(result, attempts - 1, started);
        if (delay === undefined) {
          flight.attempt = nextHalf(target, after);
          return flight.failed(lines.length);
        }
        await sleep(delay, signal);
      }
      if (resend.length === 0) return;
      const delay = this.#retryDelay(RESEND, attempts - 1, started);
      if (delay === undefined) {
        flight.attempt = nextHalf(target, after);
        return flight.failed(resend.length);
      }
      lines = resend;
      await sleep(delay, signal);
    }
  }

  /** A 413 for `part`: send each half as its own request, first half first. */
  async #sendHalves(
    target: ServerTarget,
    part: FlightPart,
    flight: Flight,
    after: readonly FlightPart[],
  ): Promise<void> {
    const middle = Math.ceil(part.lines.length / 2);
    const first = { lines: part.lines.slice(0, middle), positions: part.positions.slice(0, middle) };
    const second = { lines: part.lines.slice(middle), positions: part.positions.slice(middle) };
    await this.#deliver(target, first, flight, [second, ...after]);
    if (flight.signal.aborted) return;
    await this.#deliver(target, second, flight, after);
  }

  /**
   * Counts a 2xx answer's entries as delivered, or, for protocols that report per entry, as delivered,
   * failed, or to be sent again.
   * A body cut at the sender's bound is read as far as it goes: the entries whose results it does not reach
   * (the verdict's `unread`) count as delivered, the status having said 2xx (said once, as a notice).
   * @returns the entries to send again, in order, and the error to report for the entries refused, if any.
   */
  #countAnswer(
    flight: Flight,
    target: ServerTarget,
    lines: readonly string[],
    body: string,
    bodyCut: boolean,
  ): { resend: string[]; retry: readonly number[]; rejection: DeliveryError | undefined } {
    const { codec, sender } = this.#options;
    const verdict = codec.readResponse?.(body, lines.length, bodyCut);
    if (verdict === undefined) {
      flight.delivered(lines.length);
      return { resend: [], retry: [], rejection: undefined };
    }
    const { rejected, retry, reason, unread = 0 } = verdict;
    if (unread > 0 && !this.#cutAnswerReported) {
      this.#cutAnswerReported = true;
      this.#options.events.onNotice(
        `${target.displayUrl} answered 2xx with a body longer than the protocol's answers, cut: the results of ${unread} of ${lines.length} entries were not read, and they count as delivered`,
      );
    }
    flight.delivered(lines.length - rejected - retry.length);
    flight.failed(rejected);
    const rejection =
      rejected === 0
        ? undefined
        : new DeliveryError({
            code: 'REJECTED',
            url: target.displayUrl,
            entries: rejected,
            reason: `the server rejected ${rejected} of ${lines.length} entries: ${
              reason === undefined ? 'no reason given' : sender.redact(target, reason)
            }`,
          });
    return { resend: retry.map((i) => lines[i] as string), retry, rejection };
  }

  /** The wait before the next attempt, or undefined when the request is given up. */
  #retryDelay(failure: Failure, attempt: number, started: number): number | undefined {
    const policy = this.#options.retry;
    if (policy === false || !failure.retryable) return undefined;
    const delay = retryDelay(attempt, failure.retryAfterMs, policy, this.#options.random);
    if (this.#now() + delay - started > policy.maxElapsedMs) return undefined;
    return delay;
  }
}

/** The flight's attempt once a part is settled: the next of the later halves of its 413 split, if any is left. */
function nextHalf(target: ServerTarget, after: readonly FlightPart[]): FlightAttempt | undefined {
  const [next, ...rest] = after;
  return next === undefined ? undefined : { target, ...next, requestId: randomUUID(), after: rest };
}

/** Waits `ms` unless aborted. The timer is unref'd: whether the process waits for it is up to the process hold. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
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
