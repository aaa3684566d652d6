/**
 * winston's floor, shared by the benchmarks' processes: a transport that does nothing.
 * @module
 */
import TransportStream from 'winston-transport';

/** A winston transport that only counts the entries it is handed. */
export class NoopTransport extends TransportStream {
  /** Entries handed to `log()`. */
  count = 0;
  override log(_info: unknown, callback: () => void): void {
    this.count++;
    callback();
  }
}
