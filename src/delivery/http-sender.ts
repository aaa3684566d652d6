import { type ClientRequest, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import got, { type Agents, type CancelableRequest, type Got, type HttpsOptions, type Response } from 'got';
import type { ServerTarget } from '../url.js';
import { DeliveryError } from './delivery-error.js';
import { failureDetail, secretsOf } from './failure-detail.js';
import { isRetryableStatus, parseRetryAfter } from './retry.js';
import { unrefTimeout } from './timers.js';

const gzipAsync = promisify(gzip);

/** Bodies smaller than this are not worth compressing. */
export const COMPRESS_MIN_BYTES = 1024;

/** Network error codes after which the same request may well succeed. */
const RETRYABLE_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/** How the sender talks HTTP. */
export interface HttpSenderOptions {
  /** Per-attempt deadline in ms, from the start of the request to the end of the response. */
  readonly timeoutMs: number;
  /** Headers sent with every request, after the encoder's own (so they may override them). */
  readonly headers: Readonly<Record<string, string>>;
  /** Gzip bodies of at least {@link COMPRESS_MIN_BYTES}. */
  readonly compress: boolean;
  /** Passed to got: custom `http`/`https` agents (proxies, keep-alive tuning). */
  readonly agent?: Agents | undefined;
  /** Passed to got: TLS options (CA, client certificate, `rejectUnauthorized`). */
  readonly https?: HttpsOptions | undefined;
  /** The `User-Agent` header. */
  readonly userAgent: string;
  /** Which non-2xx statuses are worth another attempt. Default {@link isRetryableStatus}. */
  readonly isRetryableStatus?: ((statusCode: number) => boolean) | undefined;
}

/** A request ready to be sent, possibly several times. */
export interface PreparedRequest {
  readonly target: ServerTarget;
  /** Where it goes: the target's URL, without user info when an `Authorization` header is given. */
  readonly url: string;
  /** The body's bytes, encoded once: got UTF-8-encodes a string body three times (to size, send and count it). */
  readonly body: Buffer;
  readonly headers: Readonly<Record<string, string>>;
  /** How many entries it carries (for error reports). */
  readonly entries: number;
}

/** What one attempt came to. */
export type SendResult =
  | { readonly ok: true; readonly statusCode: number; readonly body: string }
  | {
      readonly ok: false;
      readonly error: DeliveryError;
      /** Worth another attempt of the same request. */
      readonly retryable: boolean;
      /** The server's `Retry-After`, in ms. */
      readonly retryAfterMs: number | undefined;
    };

/**
 * Performs POSTs with got: no retries, no redirects, no thrown HTTP errors; every outcome is a {@link SendResult}.
 * One attempt at a time: the engine's sidecar never overlaps them.
 */
export class HttpSender {
  readonly #client: Got;
  /** The attempt in flight, which a timeout or an abort cancels. */
  #inFlight: CancelableRequest<Response<string>> | undefined;
  /** Why the attempt in flight was cancelled, if it was. */
  #cancelledBy: 'timeout' | 'abort' | undefined;
  /** The abort signal already listened to: the engine shares one across attempts, so one listener serves them all. */
  #watchedSignal: AbortSignal | undefined;
  readonly #compress: boolean;
  readonly #timeoutMs: number;
  readonly #isRetryableStatus: (statusCode: number) => boolean;
  readonly #headers: Readonly<Record<string, string>>;
  /** An `Authorization` header is given: it wins over user info in the URL (got would replace it with Basic auth). */
  readonly #explicitAuthorization: boolean;

  constructor(options: HttpSenderOptions) {
    this.#compress = options.compress;
    this.#timeoutMs = options.timeoutMs;
    this.#isRetryableStatus = options.isRetryableStatus ?? isRetryableStatus;
    this.#headers = options.headers;
    this.#explicitAuthorization = Object.keys(options.headers).some((name) => name.toLowerCase() === 'authorization');
    // The deadline and the abort signal are not given to got: its `timeout` and `signal` options add listeners
    // and timers to every request, about 5% of a small request's CPU; one timer and one shared listener do here.
    this.#client = got.extend({
      headers: { 'user-agent': options.userAgent, ...options.headers },
      retry: { limit: 0 },
      followRedirect: false,
      throwHttpErrors: false,
      ...(options.agent === undefined ? {} : { agent: options.agent }),
      ...(options.https === undefined ? {} : { https: options.https }),
    });
  }

  /** Builds the request once (compressing it if enabled), so that retries resend the same bytes. */
  async prepare(
    target: ServerTarget,
    body: string,
    headers: Readonly<Record<string, string>>,
    entries: number,
  ): Promise<PreparedRequest> {
    const url = this.#explicitAuthorization ? withoutUserInfo(target.url) : target.url;
    const bytes = Buffer.from(body);
    if (!this.#compress || bytes.length < COMPRESS_MIN_BYTES) return { target, url, body: bytes, headers, entries };
    return { target, url, body: await gzipAsync(bytes), headers: { ...headers, 'content-encoding': 'gzip' }, entries };
  }

  /**
   * Sends one attempt, cancelled after `timeoutMs` or when `signal` aborts. Never throws. Neither the attempt's
   * socket nor its timer keeps the process alive: the caller decides that (the engine holds the process while it
   * has work, within its budget).
   */
  async send(
    request: PreparedRequest,
    extraHeaders: Readonly<Record<string, string>>,
    signal: AbortSignal,
  ): Promise<SendResult> {
    const { target, entries } = request;
    const pending = this.#client.post(request.url, {
      body: request.body,
      headers: { ...request.headers, ...extraHeaders },
    });
    pending.on('request', unrefSocketOf);
    this.#inFlight = pending;
    this.#cancelledBy = undefined;
    this.#watch(signal);
    const timer = unrefTimeout(() => this.#cancel('timeout'), this.#timeoutMs);
    if (signal.aborted) this.#cancel('abort');
    try {
      const response = await pending;
      const { statusCode } = response;
      if (statusCode >= 200 && statusCode < 300) return { ok: true, statusCode, body: response.body };
      const redirect = statusCode >= 300 && statusCode < 400 ? ' (redirects are not followed)' : '';
      const statusText = STATUS_CODES[statusCode] ?? '';
      // A redirect's body is boilerplate about where to go, and where to go is not followed.
      const detail =
        redirect === '' ? failureDetail(response.body, secretsOf(target.url, this.#headers), statusText) : undefined;
      return {
        ok: false,
        error: new DeliveryError({
          code: `HTTP_${statusCode}`,
          statusCode,
          url: target.displayUrl,
          entries,
          reason: `HTTP ${statusCode} ${statusText}`.trimEnd() + redirect + (detail === undefined ? '' : `: ${detail}`),
          detail,
        }),
        retryable: this.#isRetryableStatus(statusCode),
        retryAfterMs: parseRetryAfter(headerValue(response.headers['retry-after']), Date.now()),
      };
    } catch (cause) {
      return this.#errorResult(cause, target, entries);
    } finally {
      clearTimeout(timer);
      this.#inFlight = undefined;
    }
  }

  #errorResult(cause: unknown, target: ServerTarget, entries: number): SendResult {
    let errorCode: string;
    if (this.#cancelledBy === 'timeout') errorCode = 'ETIMEDOUT';
    else if (this.#cancelledBy === 'abort') errorCode = 'ABORT_ERR';
    else {
      // got's errors carry the request options (headers, URL with credentials): keep only the code, and only
      // when it looks like one.
      const code = cause instanceof Error && 'code' in cause ? String(cause.code) : '';
      errorCode = /^[A-Z][A-Z0-9_]{0,63}$/.test(code) ? code : 'ERR_REQUEST_FAILED';
    }
    const reason = errorCode === 'ETIMEDOUT' ? `ETIMEDOUT (no response within ${this.#timeoutMs} ms)` : errorCode;
    return {
      ok: false,
      error: new DeliveryError({ code: errorCode, url: target.displayUrl, entries, reason }),
      retryable: RETRYABLE_ERROR_CODES.has(errorCode),
      retryAfterMs: undefined,
    };
  }

  #watch(signal: AbortSignal): void {
    if (signal === this.#watchedSignal) return;
    this.#watchedSignal = signal;
    signal.addEventListener('abort', () => this.#cancel('abort'), { once: true });
  }

  #cancel(why: 'timeout' | 'abort'): void {
    if (this.#inFlight === undefined || this.#cancelledBy !== undefined) return;
    this.#cancelledBy = why;
    this.#inFlight.cancel();
  }
}

function withoutUserInfo(url: string): string {
  const parsed = new URL(url);
  if (parsed.username === '' && parsed.password === '') return url;
  parsed.username = '';
  parsed.password = '';
  return parsed.href;
}

/** Lets the process exit while the request is open (module-level functions: no closures per request). */
function unrefSocketOf(request: ClientRequest): void {
  request.once('socket', unrefSocket);
}

function unrefSocket(socket: Socket): void {
  socket.unref();
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
