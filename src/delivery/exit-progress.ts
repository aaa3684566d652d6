/**
 * The drain at exit's progress, shared between the exit worker, which sends, and the application's thread, which
 * waits in `Atomics.wait` and may stop waiting at any moment (its deadline): a flag for "done", then per transport
 * the entries delivered and settled so far, both in one 64-bit slot so that they are always read together (read
 * apart, a deadline falling between the two writes could pair a new `delivered` with an old `settled`).
 * @module
 */

/** The shared memory for `transports` transports' progress. */
export function createExitProgress(transports: number): SharedArrayBuffer {
  return new SharedArrayBuffer(8 * (1 + transports));
}

/** The views of an exit progress' memory: `done[0]` is set to 1 when the drain is over; `counts` per transport. */
export interface ExitProgress {
  readonly done: Int32Array;
  readonly counts: BigUint64Array;
}

/** Views the memory made by {@link createExitProgress}. */
export function viewExitProgress(memory: SharedArrayBuffer): ExitProgress {
  return { done: new Int32Array(memory, 0, 1), counts: new BigUint64Array(memory, 8) };
}

/** Stores a transport's counts (each below 2³²: a queue holds far fewer entries). */
export function storeCounts(progress: ExitProgress, transport: number, delivered: number, settled: number): void {
  Atomics.store(progress.counts, transport, (BigInt(delivered) << 32n) | BigInt(settled));
}

/** Reads a transport's counts, as stored together. */
export function loadCounts(progress: ExitProgress, transport: number): { delivered: number; settled: number } {
  const packed = Atomics.load(progress.counts, transport);
  return { delivered: Number(packed >> 32n), settled: Number(packed & 0xffffffffn) };
}
