/**
 * The two ways a transport delivers, in-process and from the sidecar worker thread: the end-to-end suites run once
 * in each, through {@link describeEachMode}.
 */
import { sidecar } from '../../src/thread/sidecar.js';

/** A delivery mode, and the transport options that choose it. */
export interface DeliveryMode {
  readonly name: 'in-process' | 'thread';
  readonly options: { readonly thread?: true };
}

export const DELIVERY_MODES: readonly DeliveryMode[] = [
  { name: 'in-process', options: {} },
  { name: 'thread', options: { thread: true } },
];

/**
 * `describe(title)` once per delivery mode. In thread mode the sidecar worker is started first: from source (through
 * tsx) it takes most of a second, which a long-running application pays once, long before its tests' timings.
 */
export function describeEachMode(title: string, body: (this: Mocha.Suite, mode: DeliveryMode) => void): void {
  for (const mode of DELIVERY_MODES) {
    describe(`${title} [${mode.name}]`, function () {
      if (mode.options.thread) {
        before(async function () {
          this.timeout(40_000);
          await sidecar().ready;
        });
      }
      body.call(this, mode);
    });
  }
}
