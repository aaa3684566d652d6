import winston from 'winston';
import type { FinishOptions, LogstreamTransportOptions } from './options.js';
import type { logstreamBrand, ServerSetting } from './server-setting.js';
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
export class Logstream implements ServerSetting {
  declare readonly [logstreamBrand]: true;
  #target: ServerTarget | undefined;
  #disabled = false;
  /**
   * The transports made here and not yet released, held weakly: one its user dropped is collected once idle. One
   * with unsettled entries cannot be collected (the transport module holds busy transports strongly until they
   * settle), so {@link finish} still reaches every transport that has work.
   */
  readonly #transports = new Set<WeakRef<LogstreamTransport>>();
  /** Each transport's entry in {@link #transports}, to release it without a search. */
  readonly #refs = new WeakMap<LogstreamTransport, WeakRef<LogstreamTransport>>();
  /** Removes the entries of transports collected without being closed or ended. */
  readonly #collected = new FinalizationRegistry<WeakRef<LogstreamTransport>>((ref) => this.#transports.delete(ref));
  /** The final counts of released transports, so that {@link finish} still sums them. */
  #released: DeliveryStats = sumStats([]);
  /** What each released transport added to {@link #released}, taken off again if it rejoins. */
  readonly #releasedStats = new WeakMap<LogstreamTransport, DeliveryStats>();

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

  /**
   * The current server URL as set, normalized as `new URL()` writes it (it may hold credentials: do not log it), or
   * `undefined`.
   */
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
    this.#track(transport);
    return transport;
  }

  #track(transport: LogstreamTransport): void {
    const ref = new WeakRef(transport);
    this.#transports.add(ref);
    this.#refs.set(transport, ref);
    this.#collected.register(transport, ref, ref);
  }

  /**
   * Forgets a transport that was closed or ended, once its entries are settled; its counts so far stay in
   * {@link finish}'s sum. Does nothing for a transport not made here or already released.
   * @internal
   */
  release(transport: LogstreamTransport): void {
    const ref = this.#refs.get(transport);
    if (ref === undefined) return;
    this.#refs.delete(transport);
    this.#transports.delete(ref);
    this.#collected.unregister(ref);
    const stats = transport.stats();
    this.#releasedStats.set(transport, stats);
    this.#released = sumStats([this.#released, stats]);
  }

  /**
   * Takes back a transport it released, given entries again (winston added it to a logger again).
   * @internal
   */
  rejoin(transport: LogstreamTransport): void {
    const counted = this.#releasedStats.get(transport);
    if (counted === undefined) return;
    this.#releasedStats.delete(transport);
    const released = { ...this.#released };
    for (const key of Object.keys(released) as (keyof DeliveryStats)[]) {
      if (key !== 'oldestQueuedMs') released[key] -= counted[key];
    }
    this.#released = released;
    this.#track(transport);
  }

  /** A winston logger with a transport made by {@link makeTransport} (after any transports given in `options`). */
  makeLogger(options: MakeLoggerOptions = {}): winston.Logger {
    const { transportOptions, transports, ...loggerOptions } = options;
    const others = transports === undefined ? [] : Array.isArray(transports) ? transports : [transports];
    return winston.createLogger({ ...loggerOptions, transports: [...others, this.makeTransport(transportOptions)] });
  }

  /**
   * Finishes every transport made from this Logstream that is still in use or has entries unsettled; resolves with
   * the stats of every transport made here summed, except those collected after their user dropped them without
   * closing or ending them.
   */
  async finish(options?: FinishOptions): Promise<DeliveryStats> {
    const live: LogstreamTransport[] = [];
    for (const ref of this.#transports) {
      const transport = ref.deref();
      if (transport === undefined) this.#transports.delete(ref);
      else live.push(transport);
    }
    await Promise.all(live.map((transport) => transport.finish(options)));
    // One released meanwhile (a logger ended concurrently) is already in #released.
    const current = live.filter((transport) => this.#refs.has(transport)).map((transport) => transport.stats());
    return sumStats([this.#released, ...current]);
  }
}
