/**
 * The exit-drain worker's HTTP/1.1 client: one keep-alive connection (net or TLS), one request at a time, each
 * written as a single buffer, and an answer read for its status line, headers and the end of its body
 * (Content-Length, chunked, or the end of the connection) without a body being kept. node:http costs about twice
 * as much per request in a worker whose code has not run yet, and the drain sends up to thousands of requests
 * while the process waits (docs/performance.md, "At exit").
 *
 * No pipelining: the next request is written only once the previous one has been answered, so that an attempt
 * that fails can be sent again before anything newer reaches the server.
 * @module
 */
import net from 'node:net';
import tls from 'node:tls';

/** TLS settings that cross to the worker (the `https` option's plain values). */
export interface ExitTls {
  readonly ca?: string | Buffer | (string | Buffer)[];
  readonly key?: string | Buffer | (string | Buffer)[];
  readonly cert?: string | Buffer | (string | Buffer)[];
  readonly passphrase?: string;
  readonly rejectUnauthorized?: boolean;
}

/** Where a URL's requests go, parsed once per distinct URL. */
export interface ExitEndpoint {
  readonly secure: boolean;
  /** Host name or address to connect to (an IPv6 address without its brackets). */
  readonly hostname: string;
  readonly port: number;
  /** What a connection is reused for: scheme, host and port. */
  readonly origin: string;
  /** `POST <path> HTTP/1.1`, CRLF-terminated. */
  readonly requestLine: string;
  /** The `Host` header's value, unless the request's headers give one. */
  readonly host: string;
  /** The URL's user info as Basic auth, as got sends it (the sender has removed it when an `Authorization` is given). */
  readonly authorization: string | undefined;
}

/** How an attempt ended: a status, or an error code (a Node error code, `ETIMEDOUT`, or `HPE_INVALID` for a bad answer). */
export interface ExitAnswer {
  readonly status?: number;
  readonly error?: string;
  /** The answer's `Retry-After` (in seconds), in ms. */
  readonly retryAfterMs?: number | undefined;
}

/** The parsed URL of a prepared request. */
export function endpointOf(url: string): ExitEndpoint {
  const parsed = new URL(url);
  const secure = parsed.protocol === 'https:';
  const port = parsed.port === '' ? (secure ? 443 : 80) : Number(parsed.port);
  const hostname = parsed.hostname.startsWith('[') ? parsed.hostname.slice(1, -1) : parsed.hostname;
  const authorization =
    parsed.username === '' && parsed.password === ''
      ? undefined
      : `Basic ${Buffer.from(`${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`).toString('base64')}`;
  return {
    secure,
    hostname,
    port,
    origin: `${parsed.protocol}//${parsed.host}`,
    requestLine: `POST ${parsed.pathname}${parsed.search} HTTP/1.1\r\n`,
    host: parsed.host,
    authorization,
  };
}

/** The most bytes of a status line and headers (or of a chunk-size or trailer line) read before giving up. */
const MAX_HEAD_BYTES = 64 * 1024;
const CRLF = Buffer.from('\r\n');
const HEAD_END = Buffer.from('\r\n\r\n');

/** Where the reading of an answer is. */
type ReadState = 'head' | 'length' | 'chunk-size' | 'chunk-data' | 'chunk-end' | 'trailers' | 'until-close' | 'done';

/** Reads one answer from the bytes of a connection: status, `Retry-After`, whether the connection can carry more. */
class AnswerReader {
  state: ReadState = 'head';
  status = 0;
  retryAfterMs: number | undefined;
  keepAlive = true;
  /** Bytes came after the end of the answer: the connection is not reused. */
  trailing = false;
  #pending: Buffer | undefined;
  #remaining = 0;

  /**
   * Takes the next bytes, `chunk[0, length)` (indices, not `subarray()`: a view costs more than reading a small
   * answer); false when they are no valid answer.
   */
  feed(chunk: Buffer, length: number): boolean {
    let data = chunk;
    let end = length;
    if (this.#pending !== undefined) {
      data = Buffer.concat([this.#pending, chunk.subarray(0, length)]);
      end = data.length;
      this.#pending = undefined;
    }
    let at = 0;
    while (at < end) {
      switch (this.state) {
        case 'head': {
          const found = data.indexOf(HEAD_END, at);
          if (found < 0 || found + 4 > end) return this.#keep(data, at, end);
          if (!this.#head(data.toString('latin1', at, found))) return false;
          at = found + 4;
          break;
        }
        case 'length':
        case 'chunk-data': {
          const taken = Math.min(this.#remaining, end - at);
          this.#remaining -= taken;
          at += taken;
          if (this.#remaining === 0) this.state = this.state === 'length' ? 'done' : 'chunk-end';
          break;
        }
        case 'chunk-end':
        case 'chunk-size':
        case 'trailers': {
          const found = data.indexOf(CRLF, at);
          if (found < 0 || found + 2 > end) return this.#keep(data, at, end);
          const line = data.toString('latin1', at, found);
          at = found + 2;
          if (!this.#line(line)) return false;
          break;
        }
        case 'until-close':
          return true;
        case 'done':
          this.trailing = true;
          return true;
      }
    }
    return true;
  }

  /** The connection ended: true when that ends the answer (a body read until the end of the connection). */
  ended(): boolean {
    if (this.state !== 'until-close') return false;
    this.state = 'done';
    return true;
  }

  /** Keeps the start of a line or head, `data[start, end)`, for the next bytes (a copy: the read buffer is reused). */
  #keep(data: Buffer, start: number, end: number): boolean {
    this.#pending = Buffer.from(data.subarray(start, end));
    return end - start <= MAX_HEAD_BYTES;
  }

  /** A status line and headers: an interim 1xx is skipped; otherwise it says how the body ends. */
  #head(text: string): boolean {
    const lines = text.split('\r\n');
    const status = /^HTTP\/1\.([01]) ([1-5]\d\d)(?: |$)/.exec(lines[0] ?? '');
    if (status === null) return false;
    const code = Number(status[2]);
    if (code < 200) return code !== 101; // 100 Continue, 102, 103: the answer follows; nothing asked to switch
    let connection = '';
    let transferEncoding: string | undefined;
    let contentLength: string | undefined;
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i] as string;
      const colon = line.indexOf(':');
      if (colon <= 0) return false;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === 'content-length') {
        if (!/^\d+$/.test(value) || (contentLength !== undefined && contentLength !== value)) return false;
        contentLength = value;
      } else if (name === 'transfer-encoding') {
        transferEncoding = `${transferEncoding === undefined ? '' : `${transferEncoding},`}${value.toLowerCase()}`;
      } else if (name === 'connection') connection += `,${value.toLowerCase()}`;
      else if (name === 'retry-after' && this.retryAfterMs === undefined && /^\d+$/.test(value)) {
        this.retryAfterMs = Number(value) * 1000;
      }
    }
    this.status = code;
    this.keepAlive = status[1] === '1' ? !/\bclose\b/.test(connection) : /\bkeep-alive\b/.test(connection);
    if (transferEncoding !== undefined) {
      this.state = /(?:^|,)\s*chunked$/.test(transferEncoding) ? 'chunk-size' : 'until-close';
    } else if (contentLength !== undefined) {
      this.#remaining = Number(contentLength);
      this.state = this.#remaining === 0 ? 'done' : 'length';
    } else this.state = code === 204 || code === 304 ? 'done' : 'until-close';
    if (this.state === 'until-close') this.keepAlive = false;
    return true;
  }

  /** A chunk's size line, the CRLF after its data, or a trailer line. */
  #line(line: string): boolean {
    if (this.state === 'chunk-end') {
      this.state = 'chunk-size';
      return line === '';
    }
    if (this.state === 'trailers') {
      if (line === '') this.state = 'done';
      return true;
    }
    const size = /^([0-9a-fA-F]{1,8})[ \t]*(?:;.*)?$/.exec(line);
    if (size === null) return false;
    this.#remaining = parseInt(size[1] as string, 16);
    this.state = this.#remaining === 0 ? 'trailers' : 'chunk-data';
    return true;
  }
}

/** One connection. */
interface Connection {
  readonly origin: string;
  readonly socket: net.Socket;
  /** Has carried a whole exchange: a failure before any answer may be the server closing it while idle. */
  used: boolean;
}

/** The attempt in progress. */
interface Exchange {
  readonly connection: Connection;
  readonly reader: AnswerReader;
  /** Epoch ms: the attempt fails with `ETIMEDOUT` then. */
  readonly deadline: number;
  readonly resolve: (answer: ExitAnswer & { stale?: boolean }) => void;
  /** Some bytes of an answer came. */
  answered: boolean;
}

/** Size of the buffer that every read of the client's connections lands in (answers are read, never kept). */
const READ_BUFFER_BYTES = 64 * 1024;

/**
 * Sends requests one at a time over one keep-alive connection, opened on first use and again after the server
 * closes it, says `Connection: close`, or answers in a way that leaves the connection unusable.
 */
export class ExitHttpClient {
  readonly #tls: ExitTls | undefined;
  readonly #readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  #connection: Connection | undefined;
  #exchange: Exchange | undefined;
  /** One timer for the attempts' deadlines, moved only when an attempt's deadline comes before it. */
  #timer: NodeJS.Timeout | undefined;
  #timerAt = 0;

  /** @param tlsOptions for `https:` URLs: the transport's plain TLS settings. */
  constructor(tlsOptions: ExitTls | undefined) {
    this.#tls = tlsOptions;
  }

  /**
   * POSTs `body` with `headers` (plus `Host`, `Content-Length`, `Connection` and the URL's Basic auth) and waits for
   * the whole answer, at most `timeoutMs`. A reused connection that fails before any answer (the server closed it
   * while it was idle) is replaced and the request sent once more on a new one, within the same time. Never throws.
   */
  async post(
    endpoint: ExitEndpoint,
    headers: Readonly<Record<string, string>>,
    body: Buffer,
    timeoutMs: number,
  ): Promise<ExitAnswer> {
    const deadline = Date.now() + timeoutMs;
    const bytes = requestBytes(endpoint, headers, body);
    const answer = await this.#attempt(endpoint, bytes, deadline);
    if (answer.status !== undefined || answer.stale !== true || Date.now() >= deadline) return answer;
    return this.#attempt(endpoint, bytes, deadline);
  }

  /** Closes the connection. */
  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#connection?.socket.destroy();
    this.#connection = undefined;
  }

  #attempt(endpoint: ExitEndpoint, bytes: Buffer, deadline: number): Promise<ExitAnswer & { stale?: boolean }> {
    const connection = this.#connectionTo(endpoint);
    return new Promise((resolve) => {
      this.#exchange = { connection, reader: new AnswerReader(), deadline, resolve, answered: false };
      this.#arm(deadline);
      connection.socket.write(bytes);
    });
  }

  /** Ends the attempt in progress; a connection that cannot carry the next one is closed. */
  #finish(answer: ExitAnswer & { stale?: boolean }, keep: boolean): void {
    const exchange = this.#exchange as Exchange;
    this.#exchange = undefined;
    if (keep) exchange.connection.used = true;
    else if (this.#connection === exchange.connection) {
      this.#connection = undefined;
      exchange.connection.socket.destroy();
    }
    exchange.resolve(answer);
  }

  #fail(error: string): void {
    const exchange = this.#exchange as Exchange;
    this.#finish({ error, stale: exchange.connection.used && !exchange.answered }, false);
  }

  #arm(deadline: number): void {
    if (this.#timer !== undefined && this.#timerAt <= deadline) return;
    clearTimeout(this.#timer);
    this.#timerAt = deadline;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      const exchange = this.#exchange;
      if (exchange === undefined) return;
      if (Date.now() >= exchange.deadline) this.#fail('ETIMEDOUT');
      else this.#arm(exchange.deadline);
    }, deadline - Date.now());
  }

  #onData(connection: Connection, data: Buffer, length: number): void {
    const exchange = this.#exchange;
    if (exchange?.connection !== connection) {
      connection.socket.destroy(); // bytes nobody asked for: the connection is out of step
      return;
    }
    exchange.answered = true;
    const { reader } = exchange;
    if (!reader.feed(data, length)) return this.#fail('HPE_INVALID');
    if (reader.state !== 'done') return;
    this.#finish({ status: reader.status, retryAfterMs: reader.retryAfterMs }, reader.keepAlive && !reader.trailing);
  }

  #onClose(connection: Connection, error: NodeJS.ErrnoException | undefined): void {
    if (this.#connection === connection) this.#connection = undefined;
    const exchange = this.#exchange;
    if (exchange?.connection !== connection) return;
    if (error === undefined && exchange.reader.ended()) this.#finish({ status: exchange.reader.status }, false);
    else this.#fail(error?.code ?? 'ECONNRESET');
  }

  #connectionTo(endpoint: ExitEndpoint): Connection {
    const current = this.#connection;
    if (current !== undefined && current.origin === endpoint.origin && !current.socket.destroyed) return current;
    current?.socket.destroy();
    const onread: net.OnReadOpts = {
      buffer: this.#readBuffer,
      callback: (length: number, buffer: Uint8Array): boolean => {
        this.#onData(connection, buffer as Buffer, length);
        return true;
      },
    };
    const socket = openSocket(endpoint, this.#tls, onread);
    const connection: Connection = { origin: endpoint.origin, socket, used: false };
    let failure: NodeJS.ErrnoException | undefined;
    socket.on('error', (error: NodeJS.ErrnoException) => (failure = error));
    socket.on('close', () => this.#onClose(connection, failure));
    this.#connection = connection;
    return connection;
  }
}

/** A TCP or TLS connection, without Nagle's delay, whose reads all land in `onread`'s buffer. */
function openSocket(endpoint: ExitEndpoint, tlsSettings: ExitTls | undefined, onread: net.OnReadOpts): net.Socket {
  const { hostname: host, port } = endpoint;
  if (!endpoint.secure) return net.connect({ host, port, noDelay: true, onread });
  // tls.connect takes `onread` too (Node >= 15.1), though @types/node does not say so.
  const options: tls.ConnectionOptions & { onread: net.OnReadOpts } = {
    ...tlsSettings,
    host,
    port,
    servername: net.isIP(host) === 0 ? host : undefined,
    onread,
  };
  return tls.connect(options).setNoDelay(true);
}

/** The request line, headers and body, in one buffer (one write, one TCP segment when it fits). */
function requestBytes(endpoint: ExitEndpoint, headers: Readonly<Record<string, string>>, body: Buffer): Buffer {
  let head = endpoint.requestLine;
  let host = true;
  for (const name in headers) {
    head += `${name}: ${headers[name] as string}\r\n`;
    if (name.length === 4 && name.toLowerCase() === 'host') host = false;
  }
  if (host) head += `host: ${endpoint.host}\r\n`;
  if (endpoint.authorization !== undefined) head += `authorization: ${endpoint.authorization}\r\n`;
  head += `content-length: ${body.length}\r\nconnection: keep-alive\r\n\r\n`;
  const headLength = Buffer.byteLength(head, 'latin1');
  const bytes = Buffer.allocUnsafe(headLength + body.length);
  bytes.write(head, 0, 'latin1');
  body.copy(bytes, headLength);
  return bytes;
}
