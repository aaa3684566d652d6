/**
 * Drain at exit, main-thread side: one worker thread per process (exit-worker.ts), started when a transport with
 * `exitTimeoutMs > 0` first has entries, unref'd and idle. In the process's `'exit'` listener, where no event loop
 * runs any more, the transports' unsettled entries are prepared as requests here (synchronously: encoded, gzipped
 * when compression is on, the request in flight with its request id), posted to the worker as plain data, and the
 * main thread blocks in `Atomics.wait` until the worker is done or the deadline passes.
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { Worker } from 'node:worker_threads';
import type { ServerTarget } from '../url.js';
import type { EncodedRequest, RequestCodec } from './codec.js';
import { createExitProgress, loadCounts, viewExitProgress } from './exit-progress.js';
import type { ExitTls, ExitWireJob, ExitWireMessage, ExitWireRequest } from './exit-worker.js';
import type { PreparedRequest } from './http-sender.js';
import { REQUEST_ID_HEADER } from './request-loop.js';
import { startWorker } from './worker-url.js';

export type { ExitTls } from './exit-worker.js';

/** Entries to send at exit for one request: the attempt in flight keeps its request id. */
export interface ExitBatch {
  readonly target: ServerTarget;
  readonly lines: readonly string[];
  readonly requestId?: string | undefined;
}

/** What a transport hands over at exit. */
export interface ExitSource {
  /** Its unsettled entries, in order, in requests' worth. */
  readonly batches: readonly ExitBatch[];
  /** Delivery was failing when the process ended: one attempt only. */
  readonly failing: boolean;
  readonly codec: Pick<RequestCodec, 'encode'>;
  readonly prepare: (
    target: ServerTarget,
    body: EncodedRequest['body'],
    headers: Readonly<Record<string, string>>,
    entries: number,
  ) => PreparedRequest;
  readonly userAgent: string;
  readonly timeoutMs: number;
  readonly exitTimeoutMs: number;
  readonly isRetryableStatus: (statusCode: number) => boolean;
  readonly tls: ExitTls | undefined;
}

/** What came of one source's entries at exit: counts of its entries from the first, in order. */
export interface ExitOutcome {
  /** Entries a 2xx answer took. */
  readonly delivered: number;
  /** Entries delivered or refused for good (a final status); the rest were not attempted to the end. */
  readonly settled: number;
}

let worker: Worker | undefined;
let ready: Promise<void> | undefined;
/** Slot 0 turns 1 once the worker listens for jobs: readable at exit, when no event (ready, error) can arrive. */
const readiness = new Int32Array(new SharedArrayBuffer(4));
/**
 * How long an exit waits for a worker that has not yet reported ready: it may still be starting (the process is
 * ending right after its first entry), or be unable to (its module missing from a bundle).
 */
const STARTUP_WAIT_MS = 1000;

/**
 * Starts the exit-drain worker once per process (later calls return the same promise); resolves when it is ready
 * (or could not start: the drain is then off, and the exit line reports what is left, as without it).
 */
export function startExitDrain(): Promise<void> {
  if (ready !== undefined) return ready;
  ready = new Promise<void>((resolve) => {
    let started: Worker;
    try {
      started = startWorker('exit-worker', { workerData: { readiness: readiness.buffer } });
    } catch {
      return resolve();
    }
    worker = started;
    started.unref();
    started.once('message', () => resolve());
    started.on('error', () => {
      worker = undefined;
      resolve();
    });
    started.once('exit', () => {
      worker = undefined;
      resolve();
    });
  });
  return ready;
}

const NOTHING: ExitOutcome = { delivered: 0, settled: 0 };

/**
 * Delivers the sources' entries synchronously, from an `'exit'` listener: blocks until every source is done or
 * the latest of their deadlines (now + `exitTimeoutMs`) has passed. Never throws.
 * @returns one outcome per source, in order.
 */
export function drainAtExit(sources: readonly ExitSource[]): ExitOutcome[] {
  const started = Date.now();
  if (worker === undefined || sources.every((source) => source.batches.length === 0)) return sources.map(() => NOTHING);
  try {
    if (Atomics.load(readiness, 0) === 0) {
      const longest = Math.max(...sources.map((source) => source.exitTimeoutMs));
      Atomics.wait(readiness, 0, 0, Math.min(STARTUP_WAIT_MS, longest));
      if (Atomics.load(readiness, 0) === 0) return sources.map(() => NOTHING);
    }
    const prepared = sources.map((source) => prepareSource(source, started));
    const total = prepared.reduce((sum, job) => sum + job.bodies.reduce((n, body) => n + body.length, 0), 0);
    const bodies = new ArrayBuffer(total);
    const view = new Uint8Array(bodies);
    let offset = 0;
    const jobs: ExitWireJob[] = prepared.map(({ job, bodies: parts }) => {
      const requests = job.requests.map((request, i): ExitWireRequest => {
        const body = parts[i] as Buffer;
        view.set(body, offset);
        offset += body.length;
        return { ...request, offset: offset - body.length };
      });
      return { ...job, requests };
    });
    const memory = createExitProgress(sources.length);
    const progress = viewExitProgress(memory);
    const message: ExitWireMessage = { jobs, bodies, progress: memory };
    worker.postMessage(message, [bodies]);
    const deadline = Math.max(...jobs.map((job) => job.deadline));
    while (Atomics.load(progress.done, 0) === 0) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      Atomics.wait(progress.done, 0, 0, left);
    }
    return sources.map((_, i) => loadCounts(progress, i));
  } catch {
    return sources.map(() => NOTHING);
  }
}

/** A source's requests as plain data, bodies apart. */
function prepareSource(source: ExitSource, started: number): { job: ExitWireJob; bodies: Buffer[] } {
  const bodies: Buffer[] = [];
  const requests: Omit<ExitWireRequest, 'offset'>[] = [];
  const deadline = started + source.exitTimeoutMs;
  // Building a large backlog's requests, and handing them to the worker (a structured clone, about as costly), must
  // not hold the exit past its budget: requests are built for half of it at most. Those not built are not sent and
  // stay unsettled (outcomes count from the first request); they could not have been sent in time anyway.
  const buildUntil = started + source.exitTimeoutMs / 2;
  for (const batch of source.batches) {
    if (requests.length > 0 && Date.now() >= buildUntil) break;
    const encoded = source.codec.encode(batch.lines);
    const request = source.prepare(batch.target, encoded.body, encoded.headers, batch.lines.length);
    bodies.push(request.body);
    requests.push({
      url: request.url,
      headers: {
        'user-agent': source.userAgent,
        ...request.headers,
        [REQUEST_ID_HEADER]: batch.requestId ?? randomUUID(),
      },
      length: request.body.length,
      entries: batch.lines.length,
    });
  }
  const retryableStatuses: number[] = [];
  for (let status = 100; status < 600; status++) if (source.isRetryableStatus(status)) retryableStatuses.push(status);
  return {
    job: {
      requests: requests as ExitWireRequest[],
      deadline,
      timeoutMs: source.timeoutMs,
      retryableStatuses,
      failing: source.failing,
      tls: source.tls,
    },
    bodies,
  };
}
