/** Messages between the test receiver process and the tests. */
import type { IncomingHttpHeaders } from 'node:http';

/**
 * How the receiver answers the next requests; rules apply in order, each for `times` requests and/or for `forMs`
 * after it first applied (for ever if neither is given). With no rule left, requests are accepted (200), unless
 * over the max body size (413).
 */
export type FaultRule = FaultAnswer & {
  times?: number;
  /** The rule ends this long after the first request it answered ("503 for a while"). */
  forMs?: number;
};

/** What a rule does to a request. */
export type FaultAnswer =
  /** Accept (200), as with no rule: lets a rule list interleave successes with faults. */
  | { kind: 'accept' }
  /** Answer with this status (with `Location` in `headers` for a redirect, `Retry-After` for a 429/503). */
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string }
  /** Read the request, never answer. */
  | { kind: 'hang' }
  /** Read the request, then reset the connection. */
  | { kind: 'reset' }
  /** Read the request, answer 200 with the start of a body, and never finish it. */
  | { kind: 'stall-body' }
  /** Read the request, then answer bytes that are not HTTP (the client's parser fails) and close the connection. */
  | { kind: 'garbage' }
  /** Answer with a named responder from `responders.ts` (backends that answer per entry). */
  | { kind: 'respond'; responder: string };

/** One request as the receiver saw it. */
export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The body, gunzipped if it was sent gzipped. */
  body: string;
  /** The body's size on the wire. */
  rawBytes: number;
  outcome: 'accepted' | 'too-large' | Exclude<FaultRule['kind'], 'accept'>;
  status: number;
  /** Date.now() when it was read. */
  at: number;
}

export type ReceiverCommand =
  | { cmd: 'requests' }
  | { cmd: 'reset' }
  | { cmd: 'faults'; rules: FaultRule[] }
  | { cmd: 'max-body'; bytes: number }
  | { cmd: 'stop' }
  | { cmd: 'start' };

export interface ReceiverReply {
  requests?: ReceivedRequest[];
  port?: number;
}
