/**
 * The messages between the application's thread and the sidecar worker (besides the entries, which go through the
 * ring): plain data only.
 * @module
 */
import type { MessagePort } from 'node:worker_threads';
import type { DeliveryReport, EngineCounts } from '../delivery/engine.js';
import type { EngineSettings } from '../engine-setup.js';
import type { RingMemory, RingRecord } from './entry-ring.js';

/** What the worker is started with. */
export interface SidecarWorkerData {
  readonly ring: RingMemory;
  /** Slot 0 turns 1 when the drain at exit is done. */
  readonly exitDone: SharedArrayBuffer;
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
  | {
      readonly type: 'exit';
      readonly budgets: readonly { readonly stream: number; readonly exitTimeoutMs: number }[];
      /** Entries that did not fit in the ring, in order. */
      readonly overflow: readonly RingRecord[];
    };

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
  /** UTF-8 bytes of the entries read from the ring. */
  readonly receivedBytes: number;
  /** The engine holds the process alive (see ProcessHold). */
  readonly holding: boolean;
}

/** What the worker posts on the exit port once the drain at exit is done. */
export interface ExitReport {
  readonly states: readonly StreamState[];
  /** Entries unsettled when the process began to exit and not delivered by the drain. */
  readonly undelivered: number;
  /** Entries kept in the spools for the next run. */
  readonly kept: number;
}

/** Worker → application thread. */
export type FromSidecar =
  /** The worker's module is loaded: it takes messages and reads the ring. */
  | { readonly type: 'ready' }
  | { readonly type: 'state'; readonly states: readonly StreamState[] }
  | { readonly type: 'report'; readonly stream: number; readonly report: DeliveryReport }
  | { readonly type: 'finished'; readonly stream: number; readonly call: number };
