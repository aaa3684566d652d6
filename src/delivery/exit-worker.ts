/**
 * The exit-drain worker thread (see exit-drain.ts): idle until the main thread, in its `'exit'` listener, posts
 * the requests still unsettled; then sends them in order per transport, retrying until the deadline, and reports
 * progress in a shared Int32Array while the main thread blocks in `Atomics.wait`. Each transport's requests go one
 * at a time over one keep-alive connection, with a small HTTP/1.1 client ({@link ExitHttpClient}).
 *
 * Only plain data crosses: URLs, header objects, one ArrayBuffer holding every body, numbers.
 * @module
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type ExitAnswer, type ExitEndpoint, ExitHttpClient, type ExitTls, endpointOf } from './exit-http.js';
import { isRetryableErrorCode } from './retry.js';
import { type ExitProgress, storeCounts, viewExitProgress } from './exit-progress.js';

export type { ExitTls } from './exit-http.js';

/** One prepared request: its body is `bodies[offset, offset + length)`. */
export interface ExitWireRequest {
  readonly url: string;
  /** Every header, the request id and `content-encoding` included (`content-length` is added here). */
  readonly headers: Readonly<Record<string, string>>;
  readonly offset: number;
  readonly length: number;
  readonly entries: number;
}

/** One transport's unsettled requests, in order. */
export interface ExitWireJob {
  readonly requests: readonly ExitWireRequest[];
  /** Epoch ms: nothing is sent or waited for after it. */
  readonly deadline: number;
  /** Per-attempt timeout, in ms (cut to the deadline). */
  readonly timeoutMs: number;
  /** Non-2xx statuses worth another attempt. */
  readonly retryableStatuses: readonly number[];
  /** Delivery was failing when the process ended: one attempt, then give the rest up. */
  readonly failing: boolean;
  readonly tls: ExitTls | undefined;
}

/** What the main thread posts at exit. */
export interface ExitWireMessage {
  readonly jobs: readonly ExitWireJob[];
  readonly bodies: ArrayBuffer;
  /**
   * The drain's progress (see exit-progress.ts): done once every job is over; for job i, the entries delivered (2xx)
   * and settled (delivered or refused for good), both counting requests from the first, in order.
   */
  readonly progress: SharedArrayBuffer;
}

/** Backoff between attempts at exit: short, the budget is small. */
const FIRST_BACKOFF_MS = 25;
const MAX_BACKOFF_MS = 250;

/** How a request ended: delivered, refused for good, or the job stops here (deadline, or a failing transport). */
type Outcome = 'delivered' | 'refused' | 'stop';

/**
 * Sends one transport's requests in order, each retried until it is answered for good or the job stops, and
 * stores the counts of entries delivered and settled (from the first request) as transport `transport`'s in
 * `progress` after each request.
 */
export async function runJob(
  job: ExitWireJob,
  bodies: Buffer,
  progress: ExitProgress,
  transport: number,
): Promise<void> {
  const client = new ExitHttpClient(job.tls);
  const endpoints = new Map<string, ExitEndpoint>();
  let delivered = 0;
  let settled = 0;
  try {
    for (const request of job.requests) {
      let endpoint = endpoints.get(request.url);
      if (endpoint === undefined) endpoints.set(request.url, (endpoint = endpointOf(request.url)));
      const body = bodies.subarray(request.offset, request.offset + request.length);
      const outcome = await deliver(job, (timeoutMs) => client.post(endpoint, request.headers, body, timeoutMs));
      if (outcome === 'stop') break;
      if (outcome === 'delivered') delivered += request.entries;
      settled += request.entries;
      storeCounts(progress, transport, delivered, settled);
    }
  } finally {
    client.close();
  }
}

/** Attempts one request until it is answered for good, within the job's deadline and failing mode. */
async function deliver(job: ExitWireJob, attempt: (timeoutMs: number) => Promise<ExitAnswer>): Promise<Outcome> {
  for (let attempts = 0; ; attempts++) {
    const left = job.deadline - Date.now();
    if (left <= 0) return 'stop';
    const answer = await attempt(Math.min(job.timeoutMs, left));
    const { status } = answer;
    if (status !== undefined && status >= 200 && status < 300) return 'delivered';
    if (job.failing) return 'stop';
    const retryable =
      status === undefined ? isRetryableErrorCode(answer.error ?? '') : job.retryableStatuses.includes(status);
    if (!retryable) return 'refused';
    const backoff = Math.max(answer.retryAfterMs ?? 0, Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** attempts));
    if (Date.now() + backoff >= job.deadline) return 'stop';
    await new Promise((resolve) => setTimeout(resolve, backoff));
  }
}

const port = parentPort;
if (port !== null) {
  port.on('message', (message: ExitWireMessage) => {
    const progress = viewExitProgress(message.progress);
    const bodies = Buffer.from(message.bodies);
    const finish = (): void => {
      Atomics.store(progress.done, 0, 1);
      Atomics.notify(progress.done, 0);
    };
    Promise.all(message.jobs.map((job, i) => runJob(job, bodies, progress, i))).then(finish, finish);
  });
  const readiness = new Int32Array((workerData as { readiness: SharedArrayBuffer }).readiness);
  Atomics.store(readiness, 0, 1);
  Atomics.notify(readiness, 0);
  port.postMessage('ready');
}
