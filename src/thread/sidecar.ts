/**
 * The application thread's side of the sidecar worker (sidecar-worker.ts): one worker per process, started on
 * first use and shared by every transport with `thread: true`, each a numbered stream. Entries go through a
 * SharedArrayBuffer ring ({@link RingWriter}); what does not fit waits here, in order, until it does. The worker
 * is unref'd, and ref'd only while some stream says it holds the process (see {@link StreamClient.holdsProcess}).
 * @module
 */
import { MessageChannel, type MessagePort, receiveMessageOnPort, type Worker } from 'node:worker_threads';
import { errorCodeOf } from '../delivery/error-code.js';
import { startWorker } from '../delivery/worker-url.js';
import type { DeliveryReport } from '../delivery/engine.js';
import type { EngineSettings } from '../engine-setup.js';
import { createRingMemory, type RecordKind, type RingRecord, RingWriter } from './entry-ring.js';
import {
  type ExitReply,
  type FromSidecar,
  KEEP_POSTED,
  REPLIES,
  type SettledAtExit,
  type SidecarWorkerData,
  type StreamState,
  type TakenAtExit,
  type ToSidecar,
} from './messages.js';

/**
 * The ring's size: entries wait there only until the worker's next turn. At least twice the largest record (see
 * `THREAD_MAX_ENTRY_BYTES`), which then always fits once the worker has read the ring.
 */
export const SIDECAR_RING_BYTES = 4 * 1024 * 1024;
/**
 * The worker's young generation, in MiB (V8's default is 48 on 64-bit machines). What the worker allocates (entries
 * read from the ring, request bodies) dies young, so a smaller one costs it little time and the process 10–15 MiB
 * less memory at a high rate.
 */
const SIDECAR_YOUNG_GENERATION_MB = 16;
/** How often entries that did not fit in the ring are tried again, in ms. */
const OVERFLOW_RETRY_MS = 1;

/** What the sidecar tells a stream's owner. */
export interface StreamClient {
  /** The worker's view of the stream changed. */
  onState(state: StreamState): void;
  onReport(report: DeliveryReport): void;
  /** A `finish` call resolved. */
  onFinished(call: number): void;
  /** The worker died (`why`: its error's code, if it gave one): the stream's entries are the client's again. */
  onWorkerLost(why: string | undefined): void;
  /** Whether the stream needs the process kept alive now. */
  holdsProcess(): boolean;
}

/** The process's sidecar worker. */
export class Sidecar {
  readonly #worker: Worker;
  readonly #writer: RingWriter;
  /** The exit handshake's counters (see {@link REPLIES}, {@link KEEP_POSTED}). */
  readonly #exitReplies = new Int32Array(new SharedArrayBuffer(8));
  readonly #exitPort: MessagePort;
  readonly #clients = new Map<number, StreamClient>();
  /** Records that did not fit in the ring, in order: every later record waits behind them. */
  readonly #overflow: RingRecord[] = [];
  #overflowTimer: NodeJS.Timeout | undefined;
  /**
   * Messages that must reach the worker after the records waiting in `#overflow` (a `finish` covers them, a `close`
   * follows them): made and posted once those are in the ring.
   */
  readonly #afterOverflow: (() => ToSidecar)[] = [];
  /**
   * Resolves once the worker has loaded its module (or died trying). Nothing waits for it: entries and messages
   * wait in the ring and the port meanwhile.
   */
  readonly ready: Promise<void>;
  #nextStream = 1;
  #referenced = false;
  #lost = false;
  /** Why the worker ended, if it said: see {@link StreamClient.onWorkerLost}. */
  #lostBecause: string | undefined;

  constructor() {
    const ring = createRingMemory(SIDECAR_RING_BYTES);
    const exitChannel = new MessageChannel();
    this.#exitPort = exitChannel.port1;
    this.#exitPort.unref();
    const workerData: SidecarWorkerData = {
      ring,
      exitReplies: this.#exitReplies.buffer as SharedArrayBuffer,
      exitPort: exitChannel.port2,
    };
    this.#worker = startWorker('../thread/sidecar-worker', {
      workerData,
      transferList: [exitChannel.port2],
      resourceLimits: { maxYoungGenerationSizeMb: SIDECAR_YOUNG_GENERATION_MB },
    });
    this.#writer = new RingWriter(ring);
    this.ready = new Promise((resolve) => {
      this.#worker.once('message', () => resolve());
      this.#worker.once('exit', () => resolve());
    });
    this.#worker.on('message', (message: FromSidecar) => this.#receive(message));
    // An uncaught error ends the worker: 'exit' follows, and handles it. Only the error's code is kept for the
    // notice (ERR_MODULE_NOT_FOUND for a bundle without the worker's file, say): its message may quote anything.
    this.#worker.on('error', (error: unknown) => (this.#lostBecause = errorCodeOf(error)));
    this.#worker.on('exit', () => this.#workerLost());
    // After the listeners: adding a 'message' listener refs the worker's port again.
    this.#worker.unref();
  }

  /**
   * Ends the worker as a crash would (an out-of-memory error, a bug): its streams fall back to in-process delivery.
   * @internal For the tests of that fallback: nothing else ends the worker on purpose.
   */
  crashForTest(): Promise<number> {
    return this.#worker.terminate();
  }

  /** Opens a stream whose engine is made in the worker from `settings`. */
  open(settings: EngineSettings, client: StreamClient): number {
    const stream = this.#nextStream++;
    this.#clients.set(stream, client);
    this.#post({ type: 'open', stream, settings });
    return stream;
  }

  /** The stream is gone and settled. */
  close(stream: number): void {
    if (!this.#clients.delete(stream)) return;
    this.#postAfterOverflow(() => ({ type: 'close', stream }));
  }

  /** Resolves `call` of the stream's client once what it wrote is settled, or at `timeoutMs`. */
  finish(stream: number, call: number, timeoutMs: number): void {
    const deadline = Date.now() + timeoutMs;
    // The deadline counts from the call, however long the records before it wait for room in the ring.
    this.#postAfterOverflow(() => ({ type: 'finish', stream, call, timeoutMs: Math.max(0, deadline - Date.now()) }));
  }

  /** Records wait on this thread for room in the ring: the worker is not reading it as fast as it is written. */
  get overflowing(): boolean {
    return this.#overflow.length > 0;
  }

  /** Hands a record to the worker, in order with every earlier one. */
  write(kind: RecordKind, stream: number, timeMs: number, text: string, bytes: number): void {
    if (this.#overflow.length === 0 && this.#writer.write(kind, stream, timeMs, text, bytes)) return;
    this.#overflow.push({ kind, stream, timeMs, text, bytes });
    this.#overflowTimer ??= setTimeout(() => this.#writeOverflow(), OVERFLOW_RETRY_MS);
  }

  /** Keeps the process alive while some stream holds it. */
  updateHold(): void {
    const hold = !this.#lost && [...this.#clients.values()].some((client) => client.holdsProcess());
    if (hold === this.#referenced) return;
    this.#referenced = hold;
    if (hold) this.#worker.ref();
    else this.#worker.unref();
  }

  /**
   * At exit, for the drain (exit-drain.ts): takes every unsettled entry of `streams` out of their engines in the
   * worker, with what did not fit in the ring. Synchronous, for the `'exit'` listener.
   * @returns `undefined` when the worker is gone or does not answer within `waitMs`.
   */
  takeAtExit(streams: readonly number[], waitMs: number): readonly TakenAtExit[] | undefined {
    clearTimeout(this.#overflowTimer);
    const reply = this.#ask({ type: 'exit-take', streams, overflow: this.#overflow.splice(0) }, waitMs);
    return reply?.type === 'taken' ? reply.taken : undefined;
  }

  /**
   * After the drain: tells the worker what it did, and has every engine keep what is left in its spool.
   * @returns how many entries the spools kept, or `undefined` when the worker did not answer within `waitMs`.
   */
  keepAtExit(settled: readonly SettledAtExit[], waitMs: number): number | undefined {
    const reply = this.#ask({ type: 'exit-keep', settled }, waitMs, KEEP_POSTED);
    if (reply?.type !== 'kept') return undefined;
    for (const state of reply.states) this.#clients.get(state.stream)?.onState(state);
    return reply.kept;
  }

  /**
   * Posts `message`, and blocks until the worker replies on the exit port, for at most `waitMs`.
   * @param wake - the counter to bump after posting, for a worker that is itself blocked waiting for it.
   */
  #ask(message: ToSidecar, waitMs: number, wake?: number): ExitReply | undefined {
    if (this.#lost) return undefined;
    const replies = Atomics.load(this.#exitReplies, REPLIES);
    this.#post(message);
    if (wake !== undefined) {
      Atomics.add(this.#exitReplies, wake, 1);
      Atomics.notify(this.#exitReplies, wake);
    }
    const deadline = Date.now() + waitMs;
    while (Atomics.load(this.#exitReplies, REPLIES) === replies) {
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      Atomics.wait(this.#exitReplies, REPLIES, replies, left);
    }
    return receiveMessageOnPort(this.#exitPort)?.message as ExitReply | undefined;
  }

  #post(message: ToSidecar): void {
    if (!this.#lost) this.#worker.postMessage(message);
  }

  /** Posts `message()` once every record written before it is in the ring: the worker reads the ring first. */
  #postAfterOverflow(message: () => ToSidecar): void {
    if (this.#overflow.length === 0) this.#post(message());
    else this.#afterOverflow.push(message);
  }

  #writeOverflow(): void {
    this.#overflowTimer = undefined;
    let written = 0;
    for (const record of this.#overflow) {
      if (!this.#writer.write(record.kind, record.stream, record.timeMs, record.text, record.bytes)) break;
      written++;
    }
    this.#overflow.splice(0, written);
    if (this.#overflow.length > 0) this.#overflowTimer = setTimeout(() => this.#writeOverflow(), OVERFLOW_RETRY_MS);
    else for (const message of this.#afterOverflow.splice(0)) this.#post(message());
  }

  #receive(message: FromSidecar): void {
    switch (message.type) {
      case 'ready':
        break;
      case 'state':
        for (const state of message.states) this.#clients.get(state.stream)?.onState(state);
        this.updateHold();
        break;
      case 'report':
        this.#clients.get(message.stream)?.onReport(message.report);
        break;
      case 'finished':
        this.#clients.get(message.stream)?.onFinished(message.call);
        break;
    }
  }

  #workerLost(): void {
    if (this.#lost) return;
    this.#lost = true;
    clearTimeout(this.#overflowTimer);
    this.#overflow.length = 0;
    this.#afterOverflow.length = 0;
    if (current === this) current = undefined;
    for (const client of this.#clients.values()) client.onWorkerLost(this.#lostBecause);
    this.#clients.clear();
  }
}

let current: Sidecar | undefined;

/** The process's sidecar, started on first use (again after a worker died). */
export function sidecar(): Sidecar {
  current ??= new Sidecar();
  return current;
}
