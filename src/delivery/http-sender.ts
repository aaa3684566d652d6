import { type ClientRequest, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { promisify } from 'node:util';
import { gzip, gzipSync } from 'node:zlib';
import type { Agents, HttpsOptions, Response } from 'got';
import type { ServerTarget } from '../url.js';
import type { EncodedRequest } from './codec.js';
import { DeliveryError } from './delivery-error.js';
import { codeOf } from './error-code.js';
import { failureDetail, redactedLine, secretsOf } from './failure-detail.js';
import { PreparedGot } from './prepared-got.js';
import { isRetryableErrorCode, isRetryableStatus, parseRetryAfter } from './retry.js';
import { unrefTimeout } from './timers.js';

const gzipAsync = promisify(gzip);

/** Bodies smaller than this are not worth compressing. */
export const COMPRESS_MIN_BYTES = 1024;

/**
 * Most bytes read of a response body that only a diagnostic needs (every non-2xx answer, and the 2xx answers of
 * protocols that ignore the body): an explanation worth printing fits, and reading stops there, so that a huge
 * or decompression-bomb answer costs at most this much memory.
 */
export const DIAGNOSTIC_BODY_BYTES = 4096;

/**
 * Headers the transport owns: the user's `headers` never replace them. `content-length` is the body's; the request
 * id is added per attempt and a compressed body's `content-encoding` when it is compressed, both after the user's.
 */
const TRANSPORT_HEADERS = new Set(['content-length', 'content-encoding', 'logstream-request-id']);

/** How the sender talks HTTP. */
export interface HttpSenderOptions {
  /** Per-attempt deadline in ms, from the start of the request to the end of the response. */
  readonly timeoutMs: number;
  /**
   * Headers sent with every request, names lower-cased: they win over the encoder's own, but not over the request
   * id, the body's length and, on a compressed body, `content-encoding`.
   */
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
  /**
   * Most bytes read of a 2xx answer's body (decompressed), for protocols that read per-entry results in it.
   * Default {@link DIAGNOSTIC_BODY_BYTES}: the protocol ignores it.
   */
  readonly maxSuccessBodyBytes?: number | undefined;
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
  | {
      readonly ok: true;
      readonly statusCode: number;
      /** The body, at most `maxSuccessBodyBytes` of it. */
      readonly body: string;
      /** The body was longer, and cut there: `body` is only its start. */
      readonly bodyCut: boolean;
    }
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
 * One attempt at a time: the engine's sidecar never overlaps them. Response bodies are read from got's stream
 * (decompressed as they arrive) up to a bound, and the response destroyed there: an answer of any size, or a small
 * gzip body that inflates to gigabytes, costs at most the bound in memory.
 */
export class HttpSender {
  readonly #client: PreparedGot;
  /** Ends the attempt in flight with a failure (a timeout or an abort); `undefined` when none is. */
  #inFlight: (() => void) | undefined;
  /** Why the attempt in flight was cancelled, if it was. */
  #cancelledBy: 'timeout' | 'abort' | undefined;
  /** The abort signal already listened to: the engine shares one across attempts, so one listener serves them all. */
  #watchedSignal: AbortSignal | undefined;
  readonly #compress: boolean;
  readonly #timeoutMs: number;
  readonly #isRetryableStatus: (statusCode: number) => boolean;
  readonly #maxSuccessBodyBytes: number;
  /** The user's headers, for masking: every value is a potential secret. */
  readonly #headers: Readonly<Record<string, string>>;
  /** The user's headers the transport does not own, applied over the encoder's; `undefined` when there are none. */
  readonly #overrides: Readonly<Record<string, string>> | undefined;
  /** An `Authorization` header is given: it wins over user info in the URL (got would replace it with Basic auth). */
  readonly #explicitAuthorization: boolean;

  constructor(options: HttpSenderOptions) {
    this.#compress = options.compress;
    this.#timeoutMs = options.timeoutMs;
    this.#isRetryableStatus = options.isRetryableStatus ?? isRetryableStatus;
    this.#maxSuccessBodyBytes = options.maxSuccessBodyBytes ?? DIAGNOSTIC_BODY_BYTES;
    this.#headers = options.headers;
    const overrides = Object.entries(options.headers)
      .map(([name, value]) => [name.toLowerCase(), value] as const)
      .filter(([name]) => !TRANSPORT_HEADERS.has(name));
    this.#overrides = overrides.length === 0 ? undefined : Object.fromEntries(overrides);
    this.#explicitAuthorization = overrides.some(([name]) => name === 'authorization');
    // The deadline and the abort signal are not given to got: its `timeout` and `signal` options add listeners
    // and timers to every request, about 5% of a small request's CPU; one timer and one shared listener do here.
    // The user's headers are merged per request (in prepare()), since got lets a request's headers win over these.
    this.#client = new PreparedGot({
      headers: { 'user-agent': options.userAgent },
      retry: { limit: 0 },
      followRedirect: false,
      throwHttpErrors: false,
      ...(options.agent === undefined ? {} : { agent: options.agent }),
      ...(options.https === undefined ? {} : { https: options.https }),
    });
  }

  /**
   * Builds the request once (compressing it if enabled), so that retries resend the same bytes.
   * @param headers - the encoder's headers, names lower-cased; the user's headers win over them.
   */
  async prepare(
    target: ServerTarget,
    body: EncodedRequest['body'],
    headers: Readonly<Record<string, string>>,
    entries: number,
  ): Promise<PreparedRequest> {
    const request = this.#assemble(target, body, headers, entries);
    if (!this.#compress || request.body.length < COMPRESS_MIN_BYTES) return request;
    return this.#compressed(request, await gzipAsync(request.body));
  }

  /** {@link prepare}, synchronously (with `gzipSync`): for the drain at exit, where no event loop runs. */
  prepareSync(
    target: ServerTarget,
    body: EncodedRequest['body'],
    headers: Readonly<Record<string, string>>,
    entries: number,
  ): PreparedRequest {
    const request = this.#assemble(target, body, headers, entries);
    if (!this.#compress || request.body.length < COMPRESS_MIN_BYTES) return request;
    return this.#compressed(request, gzipSync(request.body));
  }

  #assemble(
    target: ServerTarget,
    body: EncodedRequest['body'],
    headers: Readonly<Record<string, string>>,
    entries: number,
  ): PreparedRequest {
    const url = this.#explicitAuthorization ? withoutUserInfo(target.url) : target.url;
    const merged = this.#overrides === undefined ? headers : { ...headers, ...this.#overrides };
    return { target, url, body: typeof body === 'string' ? Buffer.from(body) : body, headers: merged, entries };
  }

  #compressed(request: PreparedRequest, body: Buffer): PreparedRequest {
    return { ...request, body, headers: { ...request.headers, 'content-encoding': 'gzip' } };
  }

  /**
   * Sends one attempt, cancelled after `timeoutMs` or when `signal` aborts. Never throws. Neither the attempt's
   * socket nor its timer keeps the process alive: the caller decides that (the engine holds the process while it
   * has work, within its budget).
   */
  send(
    request: PreparedRequest,
    extraHeaders: Readonly<Record<string, string>>,
    signal: AbortSignal,
  ): Promise<SendResult> {
    return new Promise((resolve) => {
      const { target, entries } = request;
      const stream = this.#client.post(request.url, request.body, { ...request.headers, ...extraHeaders });
      let response: Response | undefined;
      let limit = 0;
      let bytes = 0;
      const chunks: Buffer[] = [];
      const settle = (result: SendResult): void => {
        if (this.#inFlight !== cancel) return;
        this.#inFlight = undefined;
        clearTimeout(timer);
        resolve(result);
      };
      const onData = (chunk: Buffer): void => {
        const room = limit - bytes;
        if (chunk.length <= room) {
          chunks.push(chunk);
          bytes += chunk.length;
          return;
        }
        // Past the bound: stop reading (and inflating) here; the status decides.
        if (room > 0) chunks.push(chunk.subarray(0, room));
        bytes = limit;
        stream.destroy();
        settle(this.#answer(response as Response, bodyText(chunks, bytes), true, target, entries));
      };
      const cancel = (): void => {
        stream.destroy();
        settle(this.#errorResult(undefined, target, entries, response !== undefined));
      };
      stream.once('request', unrefSocketOf);
      stream.once('response', (answer: Response) => {
        response = answer;
        const { statusCode } = answer;
        limit = statusCode >= 200 && statusCode < 300 ? this.#maxSuccessBodyBytes : DIAGNOSTIC_BODY_BYTES;
        stream.on('data', onData);
        stream.once('end', () => settle(this.#answer(answer, bodyText(chunks, bytes), false, target, entries)));
      });
      stream.on('error', (cause: unknown) => {
        // A body that does not decompress (mislabelled, or cut short): the answer came whole, and its status
        // decides, as for a body past the bound; the body is not read.
        if (response !== undefined && isDecodingError(cause))
          settle(this.#answer(response, '', false, target, entries));
        else settle(this.#errorResult(cause, target, entries, false));
      });
      this.#inFlight = cancel;
      this.#cancelledBy = undefined;
      this.#watch(signal);
      const timer = unrefTimeout(() => this.#cancel('timeout'), this.#timeoutMs);
      if (signal.aborted) this.#cancel('abort');
    });
  }

  /**
   * What a server said about a request to `target` (a reason it gave inside a 2xx answer), fit for a one-line
   * diagnostic: the request's secrets masked (see {@link redactedLine}).
   */
  redact(target: ServerTarget, text: string): string {
    return redactedLine(text, secretsOf(target.url, this.#headers));
  }

  /** What an answer comes to, from its status and (the start of) its body. */
  #answer(response: Response, body: string, cut: boolean, target: ServerTarget, entries: number): SendResult {
    const { statusCode } = response;
    if (statusCode >= 200 && statusCode < 300) return { ok: true, statusCode, body, bodyCut: cut };
    const redirect = statusCode >= 300 && statusCode < 400 ? ' (redirects are not followed)' : '';
    const statusText = STATUS_CODES[statusCode] ?? '';
    // A redirect's body is boilerplate about where to go, and where to go is not followed.
    const detail =
      redirect === '' ? failureDetail(body, secretsOf(target.url, this.#headers), statusText, cut) : undefined;
    const reason =
      `HTTP ${statusCode} ${statusText}`.trimEnd() +
      redirect +
      (detail === undefined ? '' : `: ${detail}`) +
      (cut ? ` (response body cut at ${DIAGNOSTIC_BODY_BYTES} bytes)` : '');
    return {
      ok: false,
      error: new DeliveryError({
        code: `HTTP_${statusCode}`,
        statusCode,
        url: target.displayUrl,
        entries,
        reason,
        detail,
      }),
      retryable: this.#isRetryableStatus(statusCode),
      retryAfterMs: parseRetryAfter(headerValue(response.headers['retry-after']), Date.now()),
    };
  }

  /** @param responded - the status line had arrived (so a timeout was the body's). */
  #errorResult(cause: unknown, target: ServerTarget, entries: number, responded: boolean): SendResult {
    let errorCode: string;
    if (this.#cancelledBy === 'timeout') errorCode = 'ETIMEDOUT';
    else if (this.#cancelledBy === 'abort') errorCode = 'ABORT_ERR';
    else {
      // got's errors carry the request options (headers, URL with credentials): keep only the code, and only
      // when it looks like one.
      errorCode = codeOf(cause) ?? 'ERR_REQUEST_FAILED';
    }
    let reason = errorCode;
    if (errorCode === 'ETIMEDOUT') {
      reason += responded
        ? ` (the response body did not complete within ${this.#timeoutMs} ms)`
        : ` (no response within ${this.#timeoutMs} ms)`;
    }
    return {
      ok: false,
      error: new DeliveryError({ code: errorCode, url: target.displayUrl, entries, reason }),
      retryable: isRetryableErrorCode(errorCode),
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
    this.#inFlight();
  }
}

/** The body read so far, as text (a single chunk, the usual case, is not copied). */
function bodyText(chunks: readonly Buffer[], bytes: number): string {
  if (chunks.length === 1) return (chunks[0] as Buffer).toString();
  return chunks.length === 0 ? '' : Buffer.concat(chunks, bytes).toString();
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

/** zlib's errors (`Z_DATA_ERROR`, `Z_BUF_ERROR`, …): a response body that does not decompress. */
function isDecodingError(cause: unknown): boolean {
  return codeOf(cause)?.startsWith('Z_') === true;
}
