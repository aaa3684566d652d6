/**
 * A scripted stand-in for the HTTP sender, for unit tests of the delivery engine: it answers each attempt as its
 * script says, after a delay if asked (fake timers advance it), and records the entries of every attempt.
 */
import { DeliveryError } from '../../src/delivery/delivery-error.js';
import type { RequestCodec } from '../../src/delivery/codec.js';
import type { Sender } from '../../src/delivery/request-loop.js';
import type { DeliveryObserver } from '../../src/delivery/engine.js';
import { redactedLine, secretsOf } from '../../src/delivery/failure-detail.js';
import type { PreparedRequest, SendResult } from '../../src/delivery/http-sender.js';
import { isRetryableStatus } from '../../src/delivery/retry.js';
import { parseServerUrl, type ServerTarget } from '../../src/url.js';

/**
 * How the scripted server answers one attempt: a status (and body), after `delayMs` if given, or no answer until
 * the request is aborted.
 */
export type Answer = { readonly status: number; readonly body?: string; readonly delayMs?: number } | 'stall';

/** Where the scripted server's requests go. */
export const TARGET = parseServerUrl('http://logs.test/ingest', 'test');

/** The request body is the JSON array of the entries' lines, so that the server can tell which entries it got. */
export const JSON_ARRAY_CODEC: RequestCodec = {
  encode: (lines) => ({ body: JSON.stringify(lines), headers: {} }),
  batch: { maxEntries: 1, maxBytes: Infinity, maxDelayMs: 0 },
};

/** A server that answers each attempt as the script says (then with a fallback) and records what it got. */
export class ScriptedServer implements Sender {
  /** The entries of every attempt, in order. */
  readonly attempts: string[][] = [];
  /** The URL of every attempt, in order. */
  readonly urls: string[] = [];
  /** Called at every attempt, before it is answered. */
  onAttempt: () => void = () => undefined;
  readonly #script: Answer[];
  readonly #fallback: Answer;

  /** @param fallback - the answer once the script is used up. */
  constructor(script: Answer[], fallback: Answer = { status: 200 }) {
    this.#script = [...script];
    this.#fallback = fallback;
  }

  prepare(target: ServerTarget, body: string, headers: Record<string, string>, entries: number) {
    return Promise.resolve<PreparedRequest>({ target, url: target.url, body: Buffer.from(body), headers, entries });
  }

  /** As `HttpSender.redact` does for a request without headers. */
  redact(target: ServerTarget, text: string): string {
    return redactedLine(text, secretsOf(target.url, {}));
  }

  send(request: PreparedRequest, _extraHeaders: unknown, signal: AbortSignal): Promise<SendResult> {
    this.attempts.push(JSON.parse(request.body.toString()) as string[]);
    this.urls.push(request.url);
    this.onAttempt();
    const answer = this.#script.shift() ?? this.#fallback;
    const aborted = (): SendResult => failure(request, 'ABORT_ERR', undefined);
    if (answer === 'stall') {
      return new Promise((resolve) => signal.addEventListener('abort', () => resolve(aborted()), { once: true }));
    }
    const result: SendResult =
      answer.status < 300
        ? { ok: true, statusCode: answer.status, body: answer.body ?? '', bodyCut: false }
        : failure(request, `HTTP_${answer.status}`, answer.status);
    if (answer.delayMs === undefined) return Promise.resolve(result);
    return new Promise((resolve) => setTimeout(() => resolve(signal.aborted ? aborted() : result), answer.delayMs));
  }
}

/** An observer that ignores everything; spread it and override what a test watches. */
export const QUIET_OBSERVER: DeliveryObserver = {
  onFailure: () => undefined,
  onRejected: () => undefined,
  onNotice: () => undefined,
  onIdle: () => undefined,
  onFallingBehind: () => undefined,
  onCaughtUp: () => undefined,
};

function failure(request: PreparedRequest, code: string, statusCode: number | undefined): SendResult {
  const error = new DeliveryError({ code, statusCode, url: request.url, entries: request.entries, reason: code });
  return { ok: false, error, retryable: statusCode !== undefined && isRetryableStatus(statusCode), retryAfterMs: 0 };
}
