/**
 * What the delivery side needs to know of a wire format: how serialized entries make a request, how a 2xx answer
 * treated them, and how many go in one request. Protocol encoders implement {@link RequestCodec}.
 * @module
 */
import type { BatchBounds } from './entry-queue.js';

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

/** The wire format, as the delivery side sees it. */
export interface RequestCodec {
  /** Builds a request from entries, in order. */
  encode(lines: readonly string[]): EncodedRequest;
  /** Reads a 2xx answer's body; absent when a 2xx means every entry was accepted. */
  readResponse?(this: void, body: string, entryCount: number): ResponseVerdict;
}

/** How entries are grouped into requests: {@link BatchBounds}, and how long a request that is not full waits. */
export interface BatchLimits extends BatchBounds {
  /** How long to wait for more entries before sending a request that is not full (0: send at once). */
  readonly maxDelayMs: number;
}
