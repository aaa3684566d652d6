/**
 * What the delivery side needs to know of a wire format: how entries' snapshots make a request, how a 2xx answer
 * treated them, how many go in one request, and which failures are worth a retry. A protocol's
 * {@link RequestCodec} is made from plain data alone (`createRequestCodec` in src/protocols/index.ts), so that
 * another thread can make it.
 * @module
 */
import type { BatchBounds } from './entry-queue.js';

/** A request body and its headers, built from entries' snapshots by a protocol's codec. */
export interface EncodedRequest {
  /** The body: text, sent as UTF-8, or its bytes already. */
  readonly body: string | Buffer;
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
  /**
   * Entries at the end of the request whose results an answer cut short did not reach: counted as delivered (the
   * server said 2xx), and reported once. Absent: none.
   */
  readonly unread?: number;
}

/** The wire format, as the delivery side sees it. */
export interface RequestCodec {
  /**
   * Builds a request from entries' snapshots, in order: the protocol's record shapes are built here.
   * @throws never for snapshots its protocol's snapshotter took.
   */
  encode(lines: readonly string[]): EncodedRequest;
  /**
   * Reads a 2xx answer's body; absent when a 2xx means every entry was accepted.
   * @param cut - the body is the first {@link maxResponseBytes} of a longer one: the results it does not reach are
   *   {@link ResponseVerdict.unread}.
   */
  readResponse?(this: void, body: string, entryCount: number, cut: boolean): ResponseVerdict;
  /**
   * How entries are grouped into requests, counted in snapshot bytes (what the queue measures): the framing and
   * `maxBytes` are set so that a body never exceeds the protocol's limit, however its records grow from the snapshots.
   */
  readonly batch: BatchLimits;
  /**
   * Which non-2xx statuses this protocol's servers mean as "try again". Absent: the transport's default (408,
   * 429, 500, 502, 503, 504).
   */
  readonly isRetryableStatus?: (this: void, statusCode: number) => boolean;
  /**
   * For protocols with `readResponse`: the most bytes of a 2xx body it needs, which must fit the largest answer a
   * server legitimately gives to a full batch. Longer bodies are cut there: the results past the cut are not read,
   * and their entries count as delivered.
   * Absent: the body is ignored, and only its start is read (for a diagnostic).
   */
  readonly maxResponseBytes?: number;
}

/** How entries are grouped into requests: {@link BatchBounds}, and how long a request that is not full waits. */
export interface BatchLimits extends BatchBounds {
  /** How long to wait for more entries before sending a request that is not full (0: send at once). */
  readonly maxDelayMs: number;
}
