/**
 * The application thread's side of the sidecar worker (sidecar-worker.ts): one worker per process, started on
 * first use and shared by every transport with `thread: true`, each a numbered stream. Entries go through a
 * SharedArrayBuffer ring ({@link RingWriter}); what does not fit waits here, in order, until it does. The worker
 * is unref'd, and ref'd only while some stream says it holds the process (see {@link StreamClient.holdsProcess}).
 * @module
 */
import { MessageChannel, type MessagePort, receiveMessageOnPort, type Worker } from 'node:worker_threads';
import { startWorker } from '../delivery/worker-url.js';
import type { DeliveryReport } from '../delivery/engine.js';
import type { EngineSettings } from '../engine-setup.js';
import { createRingMemory, type RecordKind, type RingRecord, RingWriter } from './entry-ring.js';
import type { ExitReport, FromSidecar, SidecarWorkerData, StreamState, ToSidecar } from './messages.js';

/** The ring's size: entries wait there only until the worker's next turn. */
const RING_BYTES = 4 * 1024 * 1024;
/** How often entries that did not fit in the ring are tried again, in ms. */
const OVERFLOW_RETRY_MS = 1;

/** What the sidecar tells a stream's owner. */
export interface StreamClient {
  /** The worker's view of the stream changed. */
  onState(state: StreamState): void;
  onReport(report: DeliveryReport): void;
  /** A `finish` call resolved. */
  onFinished(call: number): void;
  /** The worker died: the stream's entries are the client's again. */
  onWorkerLost(): void;
  /** Whether the stream needs the process kept alive now. */
  holdsProcess(): boolean;
}

/** The process's sidecar worker. */
export class Sidecar {
  readonly #worker: Worker;
  readonly #writer: RingWriter;
  readonly #exitDone = new Int32Array(new SharedArrayBuffer(4));
  readonly #exitPort: MessagePort;
  readonly #clients = new Map<number, StreamClient>();
  /** Records that did not fit in the ring, in order: every later record waits behind them. */
  readonly #overflow: RingRecord[] = [];
  #overflowTimer: NodeJS.Timeout | undefined;
  /**
   * Resolves once the worker has loaded its module (or died trying). Nothing waits for it: entries and messages
   * wait in the ring and the port meanwhile.
   */
  readonly ready: Promise<void>;
  #nextStream = 1;
  #referenced = false;
  #lost = false;

  constructor() {
    const ring = createRingMemory(RING_BYTES);
    const exitChannel = new MessageChannel();
    this.#exitPort = exitChannel.port1;
    this.#exitPort.unref();
    const workerData: SidecarWorkerData = {
      ring,
      exitDone: this.#exitDone.buffer as SharedArrayBuffer,
      exitPort: exitChannel.port2,
    };
    this.#worker = startWorker('../thread/sidecar-worker', { workerData, transferList: [exitChannel.port2] });
    this.#writer = new RingWriter(ring);
    this.ready = new Promise((resolve) => {
      this.#worker.once('message', () => resolve());
      this.#worker.once('exit', () => resolve());
    });
    this.#worker.on('message', (message: FromSidecar) => this.#receive(message));
    // An uncaught error ends the worker: 'exit' follows, and handles it.
    this.#worker.on('error', () => undefined);
    this.#worker.on('exit', () => this.#workerLost());
    // After the listeners: adding a 'message' listener refs the worker's port again.
    this.#worker.unref();
  }

  /** False once the worker died: new transports then deliver in-process. */
  get alive(): boolean {
    return !this.#lost;
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
    this.#post({ type: 'close', stream });
  }

  /** Resolves `call` of the stream's client once what it wrote is settled, or at `timeoutMs`. */
  finish(stream: number, call: number, timeoutMs: number): void {
    this.#post({ type: 'finish', stream, call, timeoutMs });
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
   * The drain at exit: hands the worker what is left, and blocks until it has delivered what it could (each
   * stream within its `exitTimeoutMs`) and kept the rest in the spools. Synchronous, for the `'exit'` listener.
   * @returns `undefined` when the worker is gone or did not answer in time.
   */
  drainAtExit(budgets: readonly { stream: number; exitTimeoutMs: number }[]): ExitReport | undefined {
    if (this.#lost) return undefined;
    clearTimeout(this.#overflowTimer);
    this.#post({ type: 'exit', budgets, overflow: this.#overflow.splice(0) });
    const longest = Math.max(0, ...budgets.map((budget) => budget.exitTimeoutMs));
    // The worker's own deadlines end the drain; this margin covers its spool writes and a slow start.
    Atomics.wait(this.#exitDone, 0, 0, longest + 2000);
    const report = receiveMessageOnPort(this.#exitPort)?.message as ExitReport | undefined;
    for (const state of report?.states ?? []) this.#clients.get(state.stream)?.onState(state);
    return report;
  }

  #post(message: ToSidecar): void {
    if (!this.#lost) this.#worker.postMessage(message);
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
    if (current === this) current = undefined;
    for (const client of this.#clients.values()) client.onWorkerLost();
    this.#clients.clear();
  }
}

let current: Sidecar | undefined;

/** The process's sidecar, started on first use (again after a worker died). */
export function sidecar(): Sidecar {
  current ??= new Sidecar();
  return current;
}
