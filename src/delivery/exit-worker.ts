/**
 * The exit-drain worker thread (see exit-drain.ts): idle until the main thread, in its `'exit'` listener, posts
 * the requests still unsettled; then sends them with node:http/https, in order per transport, retrying until the
 * deadline, and reports progress in a shared Int32Array while the main thread blocks in `Atomics.wait`.
 *
 * Only plain data crosses: URLs, header objects, one ArrayBuffer holding every body, numbers.
 * @module
 */
import http from 'node:http';
import https from 'node:https';
import { parentPort, workerData } from 'node:worker_threads';
import { isRetryableErrorCode } from './retry.js';

/** TLS settings that cross to the worker (the `https` option's plain values). */
export interface ExitTls {
  readonly ca?: string | Buffer | (string | Buffer)[];
  readonly key?: string | Buffer | (string | Buffer)[];
  readonly cert?: string | Buffer | (string | Buffer)[];
  readonly passphrase?: string;
  readonly rejectUnauthorized?: boolean;
}

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
   * Int32 slots: [0] 1 once every job is over; for job i, [1 + 2i] entries delivered (2xx) and [2 + 2i] entries
   * settled (delivered or refused for good), both counting requests from the first, in order.
   */
  readonly state: SharedArrayBuffer;
}

/** Backoff between attempts at exit: short, the budget is small. */
const FIRST_BACKOFF_MS = 25;
const MAX_BACKOFF_MS = 250;

interface Answer {
  readonly status?: number;
  readonly error?: string;
  readonly retryAfterMs?: number | undefined;
}

/** How a request ended: delivered, refused for good, or the job stops here (deadline, or a failing transport). */
type Outcome = 'delivered' | 'refused' | 'stop';

/** A parsed URL and what node:http needs of it, once per distinct URL. */
interface Endpoint {
  readonly secure: boolean;
  readonly options: http.RequestOptions;
  readonly authorization: string | undefined;
}

async function runJob(job: ExitWireJob, bodies: Buffer, state: Int32Array, slot: number): Promise<void> {
  const agents = {
    http: new http.Agent({ keepAlive: true, maxSockets: 1 }),
    https: new https.Agent({ keepAlive: true, maxSockets: 1, ...job.tls }),
  };
  const endpoints = new Map<string, Endpoint>();
  let delivered = 0;
  let settled = 0;
  for (const request of job.requests) {
    let endpoint = endpoints.get(request.url);
    if (endpoint === undefined) endpoints.set(request.url, (endpoint = endpointOf(request.url)));
    const body = bodies.subarray(request.offset, request.offset + request.length);
    const outcome = await deliver(job, endpoint, endpoint.secure ? agents.https : agents.http, request, body);
    if (outcome === 'stop') break;
    if (outcome === 'delivered') delivered += request.entries;
    settled += request.entries;
    Atomics.store(state, slot, delivered);
    Atomics.store(state, slot + 1, settled);
  }
  agents.http.destroy();
  agents.https.destroy();
}

async function deliver(
  job: ExitWireJob,
  endpoint: Endpoint,
  agent: http.Agent,
  request: ExitWireRequest,
  body: Buffer,
): Promise<Outcome> {
  for (let attempt = 0; ; attempt++) {
    const left = job.deadline - Date.now();
    if (left <= 0) return 'stop';
    const answer = await post(endpoint, agent, request, body, Math.min(job.timeoutMs, left));
    const { status } = answer;
    if (status !== undefined && status >= 200 && status < 300) return 'delivered';
    if (job.failing) return 'stop';
    const retryable =
      status === undefined ? isRetryableErrorCode(answer.error ?? '') : job.retryableStatuses.includes(status);
    if (!retryable) return 'refused';
    const backoff = Math.max(answer.retryAfterMs ?? 0, Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** attempt));
    if (Date.now() + backoff >= job.deadline) return 'stop';
    await new Promise((resolve) => setTimeout(resolve, backoff));
  }
}

function post(
  endpoint: Endpoint,
  agent: http.Agent,
  request: ExitWireRequest,
  body: Buffer,
  timeoutMs: number,
): Promise<Answer> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (answer: Answer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(answer);
    };
    const headers: Record<string, string | number> = { ...request.headers, 'content-length': body.length };
    if (endpoint.authorization !== undefined) headers.authorization = endpoint.authorization;
    const send = endpoint.secure ? https.request : http.request;
    const outgoing = send({ ...endpoint.options, agent, headers }, (response) => {
      response.resume();
      response.once('end', () =>
        done({ status: response.statusCode, retryAfterMs: retryAfterMs(response.headers['retry-after']) }),
      );
      response.once('error', () => done({ error: 'ECONNRESET' }));
    });
    outgoing.once('error', (error: NodeJS.ErrnoException) => done({ error: error.code ?? 'ERR_REQUEST_FAILED' }));
    const timer = setTimeout(() => {
      outgoing.destroy();
      done({ error: 'ETIMEDOUT' });
    }, timeoutMs);
    outgoing.end(body);
  });
}

/** URL user info becomes Basic auth, as got does (the sender has already removed it when an `Authorization` is given). */
function endpointOf(url: string): Endpoint {
  const parsed = new URL(url);
  const secure = parsed.protocol === 'https:';
  const authorization =
    parsed.username === '' && parsed.password === ''
      ? undefined
      : `Basic ${Buffer.from(`${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`).toString('base64')}`;
  return {
    secure,
    authorization,
    options: {
      method: 'POST',
      protocol: parsed.protocol,
      hostname: parsed.hostname.startsWith('[') ? parsed.hostname.slice(1, -1) : parsed.hostname,
      port: parsed.port === '' ? undefined : Number(parsed.port),
      path: `${parsed.pathname}${parsed.search}`,
    },
  };
}

function retryAfterMs(header: string | string[] | undefined): number | undefined {
  const text = (Array.isArray(header) ? header[0] : header)?.trim();
  return text !== undefined && /^\d+$/.test(text) ? Number(text) * 1000 : undefined;
}

const port = parentPort;
if (port !== null) {
  port.on('message', (message: ExitWireMessage) => {
    const state = new Int32Array(message.state);
    const bodies = Buffer.from(message.bodies);
    const finish = (): void => {
      Atomics.store(state, 0, 1);
      Atomics.notify(state, 0);
    };
    Promise.all(message.jobs.map((job, i) => runJob(job, bodies, state, 1 + 2 * i))).then(finish, finish);
  });
  const readiness = new Int32Array((workerData as { readiness: SharedArrayBuffer }).readiness);
  Atomics.store(readiness, 0, 1);
  Atomics.notify(readiness, 0);
  port.postMessage('ready');
}
