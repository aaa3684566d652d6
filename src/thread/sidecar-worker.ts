/**
 * The sidecar worker thread: one per process, serving every transport with `thread: true`. Each transport is a
 * stream with its own delivery engine (queue, batching, retries, deadlines, spool), made here from plain settings.
 * Entries arrive through the ring; control messages (open, finish, close, exit) through the port; the engines'
 * state and reports go back as messages, batched once per turn of this thread's event loop.
 * @module
 */
import { type MessagePort, parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import type { DeliveryEngine, DeliveryObserver, DeliveryReport } from '../delivery/engine.js';
import { createEngine, type EngineSettings } from '../engine-setup.js';
import type { ServerTarget } from '../url.js';
import { RecordKind, RingReader, type RingRecord } from './entry-ring.js';
import {
  type ExitReply,
  type FromSidecar,
  KEEP_POSTED,
  KEEP_WAIT_MS,
  REPLIES,
  type SidecarWorkerData,
  type StreamState,
  type ToSidecar,
} from './messages.js';

/** One transport's engine, and how its sequence numbers map to the entries read from the ring. */
class Stream {
  readonly engine: DeliveryEngine;
  #target: ServerTarget | undefined;
  #received = 0;
  #receivedBytes = 0;
  #holding = false;
  /** Sequence number of the first entry admitted from the ring (those before were recovered from the spool). */
  readonly #firstRingSeq: number;
  /** For the admitted entries from `#trimmedSeq` on, their index among the entries read from the ring. */
  #ringIndexOf: number[] = [];
  #trimmedSeq: number;
  /**
   * Ranges `[from, to)` of indexes among the entries read from the ring, settled ahead of their turn since the last
   * state (refused, or made way for newer ones), in pairs: the application's side discards its copies of them.
   */
  #settledAhead: number[] = [];
  /** Entries that made way for newer ones are reported up to this sequence number. */
  #madeWayBelowSeq: number;

  constructor(
    readonly id: number,
    settings: EngineSettings,
  ) {
    const report = (message: DeliveryReport): void => {
      post({ type: 'report', stream: id, report: message });
      // A failure changes no count until its request ends: the state says that delivery is failing now (for a
      // fallback that takes over mid-outage, see StreamState.failing).
      if (message.type === 'onFailure') markChanged(this);
    };
    this.engine = createEngine(settings, reporter(report), {
      onHold: (holding) => {
        this.#holding = holding;
        markChanged(this);
      },
      onProgress: () => markChanged(this),
    }).engine;
    this.#firstRingSeq = this.engine.unsettled;
    this.#trimmedSeq = this.#firstRingSeq;
    this.#madeWayBelowSeq = this.#firstRingSeq;
    // Reported at once: what an earlier run left in the spool may wait for a server, and no request tell of it.
    markChanged(this);
  }

  take(record: RingRecord): void {
    if (record.kind === RecordKind.Target) {
      this.#target = JSON.parse(record.text) as ServerTarget;
      return;
    }
    const index = this.#received++;
    this.#receivedBytes += record.bytes;
    // A stream writes its target before its first entry; without one, the entry could go nowhere.
    if (this.#target !== undefined && this.engine.enqueue(record.text, record.bytes, this.#target, record.timeMs)) {
      this.#ringIndexOf.push(index);
    } else {
      this.#addSettledAhead(index, index + 1);
    }
    markChanged(this);
  }

  state(): StreamState {
    const now = Date.now();
    const flight = this.engine.flight;
    this.#findMadeWay();
    this.#findSettledInFlight(flight);
    const settledAhead = this.#settledAhead;
    this.#settledAhead = [];
    return {
      stream: this.id,
      counts: this.engine.counts,
      unsettled: this.engine.unsettled,
      oldestAcceptedAtMs: now - this.engine.oldestAgeMs(now),
      received: this.#received,
      receivedBytes: this.#receivedBytes,
      settledReceived: this.#settledReceived(flight),
      settledAhead,
      holding: this.#holding,
      failing: this.engine.failing,
    };
  }

  #addSettledAhead(from: number, to: number): void {
    const ranges = this.#settledAhead;
    if (ranges.at(-1) === from) ranges[ranges.length - 1] = to;
    else ranges.push(from, to);
  }

  /**
   * Reports the entries that made way for newer ones since the last state: those between the request in flight
   * and the queue's head (with the entries refused among them, reported already: the range covers them again).
   */
  #findMadeWay(): void {
    const from = Math.max(this.engine.flightEndSeq, this.#madeWayBelowSeq);
    const to = this.engine.queueHeadSeq;
    if (to <= from) return;
    this.#madeWayBelowSeq = to;
    this.#addSettledAhead(this.#ringIndexAt(from), this.#ringIndexAt(to));
  }

  /**
   * Reports the entries of the request in flight settled after its first unsettled one: a 2xx answer settles all
   * but those it asks for again (those before the first unsettled one are settled in order, see
   * {@link #settledReceived}).
   */
  #findSettledInFlight(flight: DeliveryEngine['flight']): void {
    if (flight === undefined || flight.firstSeq < this.#firstRingSeq) return;
    const { firstSeq, unsettled } = flight;
    for (let i = 0; i < unsettled.length; i++) {
      const from = (unsettled[i] as number) + 1;
      const to = i + 1 < unsettled.length ? (unsettled[i + 1] as number) : flight.length;
      if (from < to) this.#addSettledAhead(this.#ringIndexAt(firstSeq + from), this.#ringIndexAt(firstSeq + to));
    }
  }

  /** The index among the entries read from the ring of the entry admitted with sequence number `seq`, or after the last. */
  #ringIndexAt(seq: number): number {
    return this.#ringIndexOf[seq - this.#trimmedSeq] ?? this.#received;
  }

  /** How many of the entries read from the ring, from the first, are settled. */
  #settledReceived(flight: DeliveryEngine['flight']): number {
    if (this.engine.unsettled === 0) return this.#received;
    // Within the request in flight, its entries before the first unsettled one are settled (a 413 split's earlier
    // halves, or entries of a 2xx answer that asked for later ones again).
    const seq =
      flight === undefined ? this.engine.firstUnsettledSeq : flight.firstSeq + (flight.unsettled[0] ?? flight.length);
    if (seq < this.#firstRingSeq) return 0;
    const position = seq - this.#trimmedSeq;
    if (position >= this.#ringIndexOf.length) return this.#received;
    const settled = this.#ringIndexOf[position] as number;
    if (position > 1024) {
      this.#ringIndexOf = this.#ringIndexOf.slice(position);
      this.#trimmedSeq = seq;
    }
    return settled;
  }
}

/** An observer whose every call becomes a report message. */
function reporter(report: (message: DeliveryReport) => void): DeliveryObserver {
  return {
    onFailure: (...args) => report({ type: 'onFailure', args }),
    onRejected: (...args) => report({ type: 'onRejected', args }),
    onNotice: (...args) => report({ type: 'onNotice', args }),
    onIdle: (...args) => report({ type: 'onIdle', args }),
    onFallingBehind: (...args) => report({ type: 'onFallingBehind', args }),
    onCaughtUp: (...args) => report({ type: 'onCaughtUp', args }),
  };
}

const port = parentPort;
if (port === null) throw new Error('sidecar-worker.ts runs as a worker thread');
const data = workerData as SidecarWorkerData;
const ring = new RingReader(data.ring);
/** The exit handshake's counters (see `SidecarWorkerData.exitReplies`). */
const exitReplies = new Int32Array(data.exitReplies);
const streams = new Map<number, Stream>();
/** Streams whose state changed since the last state message. */
const changed = new Set<Stream>();
let statePosted = true;

function post(message: FromSidecar): void {
  port?.postMessage(message);
}

function markChanged(stream: Stream): void {
  changed.add(stream);
  if (!statePosted) return;
  statePosted = false;
  setImmediate(postStates);
}

function postStates(): void {
  statePosted = true;
  const states = [...changed].map((stream) => stream.state());
  changed.clear();
  if (states.length > 0) post({ type: 'state', states });
}

/** Messages taken from the port early, while reading the ring, to be handled once it is read. */
const deferred: ToSidecar[] = [];

function take(record: RingRecord): void {
  let stream = streams.get(record.stream);
  if (stream === undefined) {
    // Its 'open' message was posted before its first record was written, but may not have been handled yet.
    takeWaitingMessages();
    stream = streams.get(record.stream);
  }
  stream?.take(record);
}

/** Handles the 'open' messages waiting on the port now, and defers the others, in order. */
function takeWaitingMessages(): void {
  for (let waiting = receiveMessageOnPort(port as MessagePort); waiting !== undefined;) {
    const message = waiting.message as ToSidecar;
    if (message.type === 'open') handle(message);
    else deferred.push(message);
    waiting = receiveMessageOnPort(port as MessagePort);
  }
}

/**
 * Takes in every entry written so far, then handles the messages deferred meanwhile.
 * @returns whether there was any.
 */
function readRing(): boolean {
  const read = ring.readAll(take);
  for (const message of deferred.splice(0)) handle(message);
  return read > 0;
}

/**
 * How long the worker naps after taking entries in, before it looks again. A writer wakes a sleeping reader
 * with `Atomics.notify`, which costs both threads a context switch: without the nap, an application logging a few
 * thousand entries a second would pay one per entry. Entries written during a nap wait at most this long.
 */
const NAP_MS = 5;

/** Reads the ring as entries arrive, for as long as the thread lives. */
async function readForever(): Promise<void> {
  for (;;) {
    if (readRing()) await new Promise((resolve) => setTimeout(resolve, NAP_MS));
    else await ring.whenWritten();
  }
}

/** Posts a reply on the exit port, and wakes the application's thread waiting for it. */
function replyAtExit(reply: ExitReply): void {
  data.exitPort.postMessage(reply);
  Atomics.add(exitReplies, REPLIES, 1);
  Atomics.notify(exitReplies, REPLIES);
}

/**
 * How long the drain at exit waits for requests in flight to be answered before taking their entries back: one
 * answered meanwhile is not sent again (a request resent at exit may otherwise arrive twice, with the same id).
 */
const IN_FLIGHT_GRACE_MS = 200;

/**
 * The process is exiting: gives the requests in flight a moment to end, takes every unsettled entry back for the
 * drain, then blocks this thread, as the application's is, until the drain is done: the engines send nothing
 * more meanwhile.
 */
async function takeAtExit(message: Extract<ToSidecar, { type: 'exit-take' }>): Promise<void> {
  readRing();
  for (const record of message.overflow) take(record);
  const engines = message.streams.flatMap((id) => streams.get(id)?.engine ?? []);
  for (const engine of engines) engine.halt();
  const graceEnds = Date.now() + IN_FLIGHT_GRACE_MS;
  while (engines.some((engine) => engine.sending && !engine.failing) && Date.now() < graceEnds) {
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  const taken = message.streams.flatMap((id) => {
    const engine = streams.get(id)?.engine;
    if (engine === undefined) return [];
    const { batches, failing } = engine.takeForExit();
    return [{ stream: id, batches, failing, unsettled: engine.unsettled }];
  });
  const keepPosted = Atomics.load(exitReplies, KEEP_POSTED);
  replyAtExit({ type: 'taken', taken });
  // The application's thread posts 'exit-keep' once the drain is done; it may also never do so (no answer in time).
  Atomics.wait(exitReplies, KEEP_POSTED, keepPosted, KEEP_WAIT_MS);
  const next = receiveMessageOnPort(port as MessagePort)?.message as ToSidecar | undefined;
  if (next !== undefined) handle(next);
}

function keepAtExit(message: Extract<ToSidecar, { type: 'exit-keep' }>): void {
  for (const { stream, delivered, settled } of message.settled) {
    streams.get(stream)?.engine.settleAtExit(delivered, settled);
  }
  let kept = 0;
  for (const stream of streams.values()) kept += stream.engine.keepForNextRun();
  replyAtExit({ type: 'kept', states: [...streams.values()].map((stream) => stream.state()), kept });
}

function handle(message: ToSidecar): void {
  switch (message.type) {
    case 'open':
      streams.set(message.stream, new Stream(message.stream, message.settings));
      break;
    case 'finish': {
      readRing();
      const stream = streams.get(message.stream);
      const settled = stream?.engine.finish(message.timeoutMs) ?? Promise.resolve();
      void settled.then(() => {
        // The state first: the caller reads the stats as soon as its finish() resolves.
        if (stream !== undefined) changed.add(stream);
        postStates();
        post({ type: 'finished', stream: message.stream, call: message.call });
      });
      break;
    }
    case 'close':
      // Settled: nothing is kept, and its spool, if any, is closed.
      streams.get(message.stream)?.engine.keepForNextRun();
      streams.delete(message.stream);
      break;
    case 'exit-take':
      void takeAtExit(message);
      break;
    case 'exit-keep':
      keepAtExit(message);
      break;
  }
}

port.on('message', handle);
post({ type: 'ready' });

void readForever();
