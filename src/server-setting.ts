import type { ServerTarget } from './url.js';

/** Marks a {@link ServerSetting} as a `Logstream`: a type that no other object can take by its shape. */
export declare const logstreamBrand: unique symbol;

/**
 * What option `logstream` of a transport takes: a {@link Logstream}, its only implementation. The transport reads
 * the server from it at every `log()`.
 *
 * It is declared apart from the `Logstream` class, which makes transports and so imports the transport's module, so
 * that the transport's options need not import that class: no import cycle. A brand keeps other objects of the same
 * public shape out, as the transport does at run time.
 */
export interface ServerSetting {
  /** Only a `Logstream` has it (a type, nothing at run time). */
  readonly [logstreamBrand]: true;
  /** True while a server is set. */
  hasServer(): boolean;
  /** The current server URL as set (it may hold credentials: do not log it), or `undefined`. */
  getServer(): string | undefined;
  /**
   * The current server, read by transports at every `log()`.
   * @internal
   */
  currentTarget(): ServerTarget | undefined;
  /**
   * Forgets a transport made from this setting once it is closed or ended and its entries are settled.
   * @param transport - the transport (a `LogstreamTransport`), which calls this itself.
   * @internal
   */
  release(transport: object): void;
  /**
   * Takes back a transport it released, given entries again (winston added it to a logger again): its counts are
   * then read from it again, no longer summed as released. Does nothing for one it did not release.
   * @param transport - the transport (a `LogstreamTransport`), which calls this itself.
   * @internal
   */
  rejoin(transport: object): void;
}
