import winston from 'winston';
import type { FinishOptions, LogstreamTransportOptions } from './options.js';
import { type DeliveryStats, LogstreamTransport, sumStats } from './transport.js';
import { parseServerUrl, type ServerTarget } from './url.js';

/** Options of {@link Logstream.makeLogger}: winston's logger options plus the options of the transport it makes. */
export interface MakeLoggerOptions extends winston.LoggerOptions {
  /** Options for the transport made for this logger (its server comes from the Logstream). */
  transportOptions?: Omit<LogstreamTransportOptions, 'url' | 'logstream'>;
}

/** Options of the {@link Logstream} constructor. */
export interface LogstreamOptions {
  /** The initial server. Default: none (entries are skipped until {@link Logstream.setServer}). */
  url?: string | URL;
}

/**
 * A shared, switchable server setting (the Rust `LogstreamAsync` API): every transport made from it reads the
 * current server when an entry is logged, and `finish()` drains them all.
 *
 * While no server is set, transports count entries as skipped and do nothing else.
 */
export class Logstream {
  #target: ServerTarget | undefined;
  #disabled = false;
  readonly #transports = new Set<LogstreamTransport>();

  /** @throws TypeError when `options.url` is not an http(s) URL. */
  constructor(options: LogstreamOptions = {}) {
    if (options.url !== undefined) this.#target = parseServerUrl(options.url, 'option "url"');
  }

  /**
   * A Logstream set from the `LOGSTREAM_URL` environment variable; empty or unset means no server.
   * @throws TypeError when the variable holds something other than an http(s) URL.
   */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): Logstream {
    const url = env.LOGSTREAM_URL?.trim();
    const logstream = new Logstream();
    if (url) logstream.#target = parseServerUrl(url, 'LOGSTREAM_URL');
    return logstream;
  }

  /**
   * Sets the server for entries logged from now on; entries already queued still go where they were logged to.
   * Ignored after {@link disable}, without checking or throwing.
   * @throws TypeError when `url` is not an http(s) URL (unless disabled).
   */
  setServer(url: string | URL): void {
    if (this.#disabled) return;
    this.#target = parseServerUrl(url, 'setServer(url)');
  }

  /** Removes the server: entries logged from now on are skipped. */
  clearServer(): void {
    this.#target = undefined;
  }

  /** Clears the server and ignores every later {@link setServer}, for phases where there is no network. */
  disable(): void {
    this.#disabled = true;
    this.#target = undefined;
  }

  /** True while a server is set. */
  hasServer(): boolean {
    return this.#target !== undefined;
  }

  /** The current server URL as set (it may hold credentials: do not log it), or `undefined`. */
  getServer(): string | undefined {
    return this.#target?.url;
  }

  /**
   * The current server, read by transports at every `log()`.
   * @internal
   */
  currentTarget(): ServerTarget | undefined {
    return this.#target;
  }

  /** A transport whose server is this Logstream's. `finish()` on the Logstream finishes it too. */
  makeTransport(options: Omit<LogstreamTransportOptions, 'url' | 'logstream'> = {}): LogstreamTransport {
    const transport = new LogstreamTransport({ ...options, logstream: this });
    this.#transports.add(transport);
    return transport;
  }

  /** A winston logger with a transport made by {@link makeTransport} (after any transports given in `options`). */
  makeLogger(options: MakeLoggerOptions = {}): winston.Logger {
    const { transportOptions, transports, ...loggerOptions } = options;
    const others = transports === undefined ? [] : Array.isArray(transports) ? transports : [transports];
    return winston.createLogger({ ...loggerOptions, transports: [...others, this.makeTransport(transportOptions)] });
  }

  /** Finishes every transport made from this Logstream; resolves with their stats summed. */
  async finish(options?: FinishOptions): Promise<DeliveryStats> {
    const stats = await Promise.all([...this.#transports].map((transport) => transport.finish(options)));
    return sumStats(stats);
  }
}
