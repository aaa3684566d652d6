/**
 * The messages between the application's thread and the sidecar worker (besides the entries, which go through the
 * ring): plain data only.
 * @module
 */
import type { MessagePort } from 'node:worker_threads';
import type { DeliveryReport, EngineCounts } from '../delivery/engine.js';
import type { ExitBatch } from '../delivery/exit-drain.js';
import type { EngineSettings } from '../engine-setup.js';
import type { RingMemory, RingRecord } from './entry-ring.js';

/** Slot of `exitReplies` counting the replies the worker posted on the exit port. */
export const REPLIES = 0;
/** Slot of `exitReplies` counting the 'exit-keep' messages posted to the worker. */
export const KEEP_POSTED = 1;
/** The most the worker, blocked after giving entries back at exit, waits for 'exit-keep'. */
export const KEEP_WAIT_MS = 60_000;

/** What the worker is started with. */
export interface SidecarWorkerData {
  readonly ring: RingMemory;
  /** Counters of the exit handshake: slots {@link REPLIES} and {@link KEEP_POSTED}. */
  readonly exitReplies: SharedArrayBuffer;
  /** Where the worker posts its last states at exit, read with `receiveMessageOnPort`. */
  readonly exitPort: MessagePort;
}

/** Application thread → worker. */
export type ToSidecar =
  /** A transport's engine is made with these settings. */
  | { readonly type: 'open'; readonly stream: number; readonly settings: EngineSettings }
  /** Resolve `call` once everything the stream wrote before is settled, or at `timeoutMs`. */
  | { readonly type: 'finish'; readonly stream: number; readonly call: number; readonly timeoutMs: number }
  /** The transport is gone and settled: drop its engine. */
  | { readonly type: 'close'; readonly stream: number }
  /** The process is exiting: drain every stream within its budget, then post the last states on the exit port. */
  /** The process is exiting: take every unsettled entry of these streams out of their engines for the drain. */
  | {
      readonly type: 'exit-take';
      readonly streams: readonly number[];
      /** Entries that did not fit in the ring, in order. */
      readonly overflow: readonly RingRecord[];
    }
  /** The drain is done: count what it delivered, keep the rest in the spools. */
  | { readonly type: 'exit-keep'; readonly settled: readonly SettledAtExit[] };

/** A stream's state, as the worker last saw it. */
export interface StreamState {
  readonly stream: number;
  readonly counts: EngineCounts;
  readonly unsettled: number;
  /** When the oldest unsettled entry was accepted; meaningless when none is. */
  readonly oldestAcceptedAtMs: number;
  /** Entries read from the ring. */
  readonly received: number;
  /** The first `settledReceived` entries read from the ring are settled. */
  readonly settledReceived: number;
  /**
   * Ranges `[from, to)`, in pairs, of indexes among the entries read from the ring, settled ahead of
   * `settledReceived` since the previous state: refused by a full queue, or made way for newer ones.
   */
  readonly settledAhead: readonly number[];
  /** UTF-8 bytes of the entries read from the ring. */
  readonly receivedBytes: number;
  /** The engine holds the process alive (see ProcessHold). */
  readonly holding: boolean;
  /** Delivery is failing (an outage, its first failure reported). */
  readonly failing: boolean;
}

/** A stream's unsettled entries, taken out of its engine at exit for the drain (see `DeliveryEngine.takeForExit`). */
export interface TakenAtExit {
  readonly stream: number;
  readonly batches: readonly ExitBatch[];
  readonly failing: boolean;
  /**
   * Every entry of the stream not yet settled: those of `batches`, and any left for the spool (recovered ones not
   * yet sent, and those queued behind them).
   */
  readonly unsettled: number;
}

/** What the drain at exit did with a stream's taken entries (see `DeliveryEngine.settleAtExit`). */
export interface SettledAtExit {
  readonly stream: number;
  readonly delivered: number;
  readonly settled: number;
}

/**
 * What the worker posts on the exit port, while the application's thread waits in `Atomics.wait`: first the
 * entries taken for the drain, then, once told what the drain did, the last states and what the spools kept.
 */
export type ExitReply =
  | { readonly type: 'taken'; readonly taken: readonly TakenAtExit[] }
  | { readonly type: 'kept'; readonly states: readonly StreamState[]; readonly kept: number };

/** Worker → application thread. */
export type FromSidecar =
  /** The worker's module is loaded: it takes messages and reads the ring. */
  | { readonly type: 'ready' }
  | { readonly type: 'state'; readonly states: readonly StreamState[] }
  | { readonly type: 'report'; readonly stream: number; readonly report: DeliveryReport }
  | { readonly type: 'finished'; readonly stream: number; readonly call: number };
