/**
 * The dev receiver: a small node:http log server that prints what it is sent. For local development and for
 * trying the transport before a real log server exists; not a production log store.
 * @module
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { bodyFormat, decodeBody, parseEntries, RejectedBody } from './body.js';
import { escapeControls, formatEntry, type ReceiverSummary } from './format.js';

/** Where the receiver writes text: `process.stdout`, or anything with a `write(text)`. */
export interface TextSink {
  /** Writes text that ends in a newline. */
  write(text: string): unknown;
  /** When true (a terminal), levels are coloured by default. */
  readonly isTTY?: boolean;
}

/** Options of {@link createReceiver}. */
export interface ReceiverOptions {
  /** Interface to listen on. Default `'127.0.0.1'` (this machine only). */
  host?: string;
  /** Port to listen on; `0` picks a free one. Default 8080. */
  port?: number;
  /** Print each entry as a raw JSON line instead of a readable line. Default `false`. */
  json?: boolean;
  /** Also append each entry to this file as an NDJSON line (the file is created if missing). Default: none. */
  out?: string;
  /**
   * Largest request body in bytes, as sent and once decompressed; a larger one is answered 413 (at once, before
   * the body is read, when its `Content-Length` says so). Default 10 MiB.
   */
  maxBody?: number;
  /** Most entries in one request; a request with more is answered 413 and none of it is accepted. Default 10,000. */
  maxEntries?: number;
  /** Where entries are printed. Default `process.stdout`. */
  stdout?: TextSink;
  /** Where refused requests are reported, one line each. Default `process.stderr`. */
  stderr?: TextSink;
  /** Colour levels. Default: when `stdout` is a terminal. */
  color?: boolean;
}

/** A running (or startable) dev receiver; see {@link createReceiver}. */
export interface Receiver {
  /**
   * Starts listening.
   * @returns the base URL, such as `http://127.0.0.1:8080/` (entries may be POSTed to any path).
   * @throws when the port is taken, or the `out` file cannot be opened.
   */
  start(): Promise<string>;
  /**
   * Stops accepting connections, lets requests in progress finish, closes the `out` file.
   * @returns the final summary.
   */
  stop(): Promise<ReceiverSummary>;
  /** What has been received so far. */
  summary(): ReceiverSummary;
  /** The port listened on, once started. */
  readonly port: number | undefined;
}

/** Default of {@link ReceiverOptions.maxBody}: 10 MiB. */
export const DEFAULT_MAX_BODY = 10 * 1024 * 1024;

/**
 * Default of {@link ReceiverOptions.maxEntries}: 10,000, ten times the transport's default `batch.maxEntries` (as
 * the 10 MiB `maxBody` is ten times its default `batch.maxBytes`). A larger batch answered 413 is split in two by
 * the transport and sent again.
 */
export const DEFAULT_MAX_ENTRIES = 10_000;

/** Entries are printed in slices of about this many characters, letting other requests be served in between. */
const PRINT_SLICE_CHARS = 64 * 1024;

/** How long {@link Receiver.stop} lets a request in progress finish before dropping its connection. */
const STOP_GRACE_MS = 2000;

/**
 * A dev log receiver on node:http. It accepts POSTs (to any path) holding one JSON object, a JSON array of
 * entries (`application/json`), or NDJSON (`application/x-ndjson`), gzip- or deflate-compressed or not, and answers
 * `200 {"accepted": N}`; `400 {"error": …}` for a body that is not valid JSON (nothing of it is accepted),
 * `413` over `maxBody` or `maxEntries`, `415` for another content type or encoding.
 */
export function createReceiver(options: ReceiverOptions = {}): Receiver {
  return new LogReceiver(options);
}

class LogReceiver implements Receiver {
  readonly #host: string;
  readonly #requestedPort: number;
  readonly #json: boolean;
  readonly #outPath: string | undefined;
  readonly #maxBody: number;
  readonly #maxEntries: number;
  readonly #stdout: TextSink;
  readonly #stderr: TextSink;
  readonly #color: boolean;
  readonly #server = http
    .createServer((req, res) => this.#serve(req, res))
    // `Expect: 100-continue`: a body over the limit is refused before the client sends it.
    .on('checkContinue', (req: http.IncomingMessage, res: http.ServerResponse) => {
      if (this.#declaredTooLarge(req) === undefined) res.writeContinue();
      this.#serve(req, res);
    });
  readonly #summary: ReceiverSummary = { requests: 0, rejected: 0, entries: 0, bytes: 0 };
  #out: WriteStream | undefined;
  #port: number | undefined;

  constructor(options: ReceiverOptions) {
    this.#host = options.host ?? '127.0.0.1';
    this.#requestedPort = options.port ?? 8080;
    this.#json = options.json ?? false;
    this.#outPath = options.out;
    this.#maxBody = options.maxBody ?? DEFAULT_MAX_BODY;
    this.#maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
    this.#stdout = options.stdout ?? process.stdout;
    this.#stderr = options.stderr ?? process.stderr;
    this.#color = options.color ?? this.#stdout.isTTY === true;
    if (!Number.isSafeInteger(this.#requestedPort) || this.#requestedPort < 0 || this.#requestedPort > 65535) {
      throw new TypeError('winston-logstream-receiver: port must be an integer from 0 to 65535');
    }
    if (!Number.isSafeInteger(this.#maxBody) || this.#maxBody <= 0) {
      throw new TypeError('winston-logstream-receiver: maxBody must be a positive integer');
    }
    if (!Number.isSafeInteger(this.#maxEntries) || this.#maxEntries <= 0) {
      throw new TypeError('winston-logstream-receiver: maxEntries must be a positive integer');
    }
  }

  get port(): number | undefined {
    return this.#port;
  }

  summary(): ReceiverSummary {
    return { ...this.#summary };
  }

  async start(): Promise<string> {
    // Refused before the `out` file is opened again: the one in use stays.
    if (this.#server.listening) throw new Error('winston-logstream-receiver: already started');
    if (this.#outPath !== undefined) this.#out = await openAppend(this.#outPath);
    try {
      await new Promise<void>((resolve, reject) => {
        this.#server.once('error', reject);
        this.#server.listen(this.#requestedPort, this.#host, () => {
          this.#server.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      this.#out?.destroy();
      this.#out = undefined;
      throw error;
    }
    this.#port = (this.#server.address() as AddressInfo).port;
    const host = this.#host.includes(':') ? `[${this.#host}]` : this.#host;
    return `http://${host}:${this.#port}/`;
  }

  async stop(): Promise<ReceiverSummary> {
    if (this.#server.listening) {
      const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
      const dropStragglers = setTimeout(() => this.#server.closeAllConnections(), STOP_GRACE_MS);
      this.#server.closeIdleConnections();
      await closed;
      clearTimeout(dropStragglers);
    }
    const out = this.#out;
    this.#out = undefined;
    if (out !== undefined) await new Promise<void>((resolve) => out.end(resolve));
    return this.summary();
  }

  #serve(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.#handle(req, res).catch((error: Error) => {
      // (Not `req.destroyed`: a request read to its end is destroyed, its connection still open for the answer.)
      if (res.headersSent || res.destroyed)
        res.destroy(); // the client went away, or the answer is under way
      // A fault here (such as the `out` file failing) rather than in the body: still an answer, not a drop.
      else this.#answerError(req, res, 500, error.message);
    });
  }

  /** The refusal of a request whose `Content-Length` is over `maxBody`; `undefined` for any other request. */
  #declaredTooLarge(req: http.IncomingMessage): RejectedBody | undefined {
    const declared = Number(req.headers['content-length']);
    return declared > this.#maxBody ? tooLarge(declared, this.#maxBody) : undefined;
  }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (req.method === 'GET' || req.method === 'HEAD') {
      res
        .writeHead(200, { 'content-type': 'text/plain; charset=utf-8' })
        .end('winston-logstream-receiver: POST log entries to any path\n');
      return;
    }
    if (req.method !== 'POST' && req.method !== 'PUT') {
      res.writeHead(405, { allow: 'POST, PUT, GET, HEAD' }).end();
      return;
    }
    this.#summary.requests++;
    // Answered before the body is read; node:http then discards the body as it arrives, keeping none of it.
    const declaredTooLarge = this.#declaredTooLarge(req);
    if (declaredTooLarge !== undefined) return this.#refuse(req, res, declaredTooLarge);
    const { body, size } = await readBody(req, this.#maxBody);
    this.#summary.bytes += size;
    if (body === undefined) return this.#refuse(req, res, tooLarge(size, this.#maxBody));
    let entries: unknown[];
    try {
      const format = bodyFormat(req.headers['content-type']);
      const text = await decodeBody(body, req.headers['content-encoding'], this.#maxBody);
      entries = parseEntries(text, format, this.#maxEntries);
    } catch (error) {
      if (!(error instanceof RejectedBody)) throw error;
      return this.#refuse(req, res, error);
    }
    await this.#record(entries, new Date());
    this.#summary.entries += entries.length;
    sendJson(res, 200, { accepted: entries.length });
  }

  #refuse(req: http.IncomingMessage, res: http.ServerResponse, error: RejectedBody): void {
    this.#summary.rejected++;
    this.#answerError(req, res, error.status, error.message);
  }

  /** Answers `{"error": message}` and reports it on stderr (with the path only: a query string may carry a token). */
  #answerError(req: http.IncomingMessage, res: http.ServerResponse, status: number, message: string): void {
    // One line, whatever the message quotes of the request (a JSON parse error quotes the body).
    const line = escapeControls(`${status} for ${req.method} ${pathOf(req)}: ${message}`);
    this.#stderr.write(`winston-logstream-receiver: ${line}\n`);
    sendJson(res, status, { error: message });
  }

  /**
   * Prints the entries, and appends them to the `out` file before the request is answered. A large request is
   * printed in slices with a turn of the event loop between them, so that it does not hold up other requests.
   */
  async #record(entries: readonly unknown[], receivedAt: Date): Promise<void> {
    const out = this.#out;
    let printed = '';
    let jsonLines = '';
    for (const [index, entry] of entries.entries()) {
      const json = this.#json || out !== undefined ? `${JSON.stringify(entry)}\n` : '';
      printed += this.#json ? json : `${formatEntry(entry, { color: this.#color, receivedAt })}\n`;
      jsonLines += json;
      const last = index === entries.length - 1;
      if (printed.length < PRINT_SLICE_CHARS && !last) continue;
      this.#stdout.write(printed);
      // Writes to one stream complete in order: waiting for the last one waits for them all.
      if (out !== undefined && last) await appendTo(out, jsonLines);
      else out?.write(jsonLines);
      printed = jsonLines = '';
      if (!last) await nextTurn();
    }
  }
}

function pathOf(req: http.IncomingMessage): string {
  return (req.url ?? '/').split('?', 1)[0]!;
}

function tooLarge(size: number, limit: number): RejectedBody {
  return new RejectedBody(413, `body of ${size} bytes is over the ${limit}-byte limit`);
}

/** Reads a request body; past `limit` bytes it keeps reading (so the client gets the answer) but keeps nothing. */
function readBody(req: http.IncomingMessage, limit: number): Promise<{ body: Buffer | undefined; size: number }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else chunks.length = 0;
    });
    req.on('end', () => resolve({ body: size <= limit ? Buffer.concat(chunks) : undefined, size }));
    req.on('error', reject);
  });
}

function sendJson(res: http.ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
}

function appendTo(out: WriteStream, text: string): Promise<void> {
  return new Promise((resolve, reject) => out.write(text, (error) => (error ? reject(error) : resolve())));
}

function openAppend(path: string): Promise<WriteStream> {
  return new Promise((resolve, reject) => {
    const stream = createWriteStream(path, { flags: 'a' });
    stream.once('open', () => {
      stream.off('error', reject);
      // A write that fails (a full disk) fails its request (500), through its callback or the next write's: the
      // error event itself must not end the process.
      stream.on('error', () => undefined);
      resolve(stream);
    });
    stream.once('error', reject);
  });
}
