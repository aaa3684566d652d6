/**
 * A nock-mocked log server for unit-level tests: it records every request (path, headers, raw body) in arrival
 * order and answers each one as scripted. Network access stays disabled while it is in use: a request nobody
 * scripted fails with nock's no-match error, and {@link MockLogServer.done} fails the test.
 */
import type { IncomingHttpHeaders } from 'node:http';
import nock from 'nock';
import { parseEntries } from './receiver.js';
import { StderrCapture } from './stderr.js';

/** The origin mocked servers live on by default (never resolved: nock intercepts first). */
export const MOCK_ORIGIN = 'http://logs.test';

/** One request as the mocked server saw it. */
export interface MockedRequest {
  /** Path and query string. */
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** The body exactly as sent. */
  readonly body: string;
}

/** How the server answers one request. */
export type MockAnswer =
  | { readonly status: number; readonly headers?: Record<string, string> }
  /** A network error with this code (`ECONNRESET`, …). */
  | { readonly errorCode: string }
  /** Holds the request until `release` resolves, then answers 200. */
  | { readonly release: Promise<void> };

/** Holds the next request open until {@link StalledAnswer.release} is called. */
export interface StalledAnswer {
  readonly answer: MockAnswer;
  release(): void;
}

/** A request held by {@link MockLogServer.stall}: answered 200 once released. */
export function stalledAnswer(): StalledAnswer {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  return { answer: { release: released }, release };
}

/** Blocks real network access (loopback stays allowed for the test receiver). Call {@link restoreNetwork} after. */
export function blockNetwork(): void {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
}

/** Removes every interceptor and lets the network through again. */
export function restoreNetwork(): void {
  nock.cleanAll();
  nock.enableNetConnect();
}

/** A scripted log server on {@link MOCK_ORIGIN} (or another origin). Answers are consumed in order. */
export class MockLogServer {
  readonly requests: MockedRequest[] = [];
  readonly #origin: string;
  readonly #scopes: nock.Scope[] = [];
  #arrivals: (() => void)[] = [];

  constructor(origin = MOCK_ORIGIN) {
    this.#origin = origin;
  }

  /** Answers the next requests, one answer each, in order; any path and query string match. */
  answer(...answers: MockAnswer[]): this {
    for (const answer of answers) {
      const interceptor = this.#scope().post(() => true);
      if ('errorCode' in answer)
        interceptor.replyWithError(Object.assign(new Error(answer.errorCode), { code: answer.errorCode }));
      else if ('release' in answer) interceptor.reply(() => answer.release.then(() => [200, '{"ok":true}']));
      else interceptor.reply(answer.status, '', answer.headers);
    }
    return this;
  }

  /** Answers the next `times` requests with `status`. */
  reply(status: number, times = 1): this {
    return this.answer(...Array.from({ length: times }, () => ({ status })));
  }

  /** Accepts (200) every request from now on, after the scripted answers. */
  acceptAll(): this {
    nock(this.#origin)
      .post(() => true)
      .reply(200, '{"ok":true}')
      .persist()
      .on('request', (req: RecordedReq, _interceptor: unknown, body: string) => this.#record(req, body));
    return this;
  }

  /** Every entry of every request, parsed from NDJSON, a JSON array or one JSON value, in order. */
  entries(): Record<string, unknown>[] {
    return this.requests.flatMap((request) => parseEntries(request) as Record<string, unknown>[]);
  }

  /** How many entries each request carried, in order. */
  batchSizes(): number[] {
    return this.requests.map((request) => parseEntries(request).length);
  }

  /** Resolves once `count` requests have arrived. */
  async waitForRequests(count: number): Promise<void> {
    while (this.requests.length < count) await new Promise<void>((resolve) => this.#arrivals.push(resolve));
  }

  /** Fails when a scripted answer was not used. */
  done(): void {
    for (const scope of this.#scopes) scope.done();
  }

  /** A scope whose answers must all be used (see {@link done}). */
  #scope(): nock.Scope {
    const scope = nock(this.#origin);
    scope.on('request', (req: RecordedReq, _interceptor: unknown, body: string) => this.#record(req, body));
    this.#scopes.push(scope);
    return scope;
  }

  #record(req: RecordedReq, body: string): void {
    this.requests.push({ path: req.path, headers: { ...req.headers }, body });
    const arrivals = this.#arrivals;
    this.#arrivals = [];
    for (const arrived of arrivals) arrived();
  }
}

/** What nock's 'request' event hands over (the intercepted ClientRequest). */
interface RecordedReq {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
}

/**
 * Mocha hooks for the enclosing `describe`: before each test, blocks the network (loopback excepted), scripts a
 * fresh {@link MockLogServer} and starts capturing stderr; after it, restores both.
 * @param use - receives each test's server and stderr capture (assign them to the block's variables).
 */
export function useMockLogServer(use: (server: MockLogServer, stderr: StderrCapture) => void): void {
  let stderr: StderrCapture | undefined;
  beforeEach(function () {
    blockNetwork();
    stderr = StderrCapture.start();
    use(new MockLogServer(), stderr);
  });
  afterEach(function () {
    stderr?.restore();
    restoreNetwork();
  });
}
