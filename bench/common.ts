/**
 * What the benchmarks' coordinators share (`npm run bench`: bench/bench.ts; `npm run bench:app`: bench/app.ts):
 * starting child processes, the receiver process, medians and ratios, and the plain-text table.
 * @module
 */
import { type ChildProcess, fork } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { type ReceiverCommand, type ReceiverMessage, type RunCount } from './protocol.js';

/** Node's options for a child: TypeScript through tsx, `gc()` exposed, and a CPU profile into `cpuProfDir` when given. */
export function childExecArgv(cpuProfDir: string | undefined): string[] {
  const execArgv = ['--import', 'tsx', '--expose-gc'];
  if (cpuProfDir !== undefined) execArgv.push('--cpu-prof', '--cpu-prof-interval=100', `--cpu-prof-dir=${cpuProfDir}`);
  return execArgv;
}

/** The absolute path of a file in bench/, for `fork()`. */
export function script(name: string): string {
  return fileURLToPath(new URL(name, import.meta.url));
}

/** The receiver (bench/receiver-process.ts) in its own process, seen from the coordinator. */
export class Receiver {
  readonly #child: ChildProcess;
  readonly #onComplete = new Map<string, (at: number) => void>();
  readonly #onCount = new Map<string, (count: RunCount) => void>();
  /** The port it listens on, on 127.0.0.1. */
  port = 0;

  private constructor(child: ChildProcess) {
    this.#child = child;
  }

  /** Starts the receiver; resolves once it has warmed itself up and listens. */
  static start(): Promise<Receiver> {
    const receiver = new Receiver(fork(script('./receiver-process.ts'), [], { execArgv: childExecArgv(undefined) }));
    return new Promise((resolve, reject) => {
      receiver.#child.once('exit', (code) => reject(new Error(`the receiver exited (${code})`)));
      receiver.#child.on('message', (message: ReceiverMessage) => {
        if (message.type === 'ready') {
          receiver.port = message.port;
          resolve(receiver);
        } else if (message.type === 'complete') receiver.#onComplete.get(message.run)?.(message.at);
        else receiver.#onCount.get(message.run)?.(message.count);
      });
    });
  }

  #send(command: ReceiverCommand): void {
    this.#child.send(command);
  }

  /** Counts the entries posted to `/<run>` from now on; `onComplete` is called when there are `entries` of them. */
  expect(run: string, entries: number, onComplete: (at: number) => void): void {
    this.#onComplete.set(run, onComplete);
    this.#send({ type: 'expect', run, entries });
  }

  /** What the receiver has counted for `run` so far. */
  count(run: string): Promise<RunCount> {
    return new Promise((resolve) => {
      this.#onCount.set(run, resolve);
      this.#send({ type: 'count', run });
    });
  }

  /** Lets the receiver exit. */
  stop(): void {
    this.#child.disconnect();
  }
}

/** The median of the known values; undefined when none is known. */
export function median(values: readonly (number | undefined)[]): number | undefined {
  const known = values.filter((v): v is number => v !== undefined).sort((a, b) => a - b);
  if (known.length === 0) return undefined;
  const middle = Math.floor(known.length / 2);
  return known.length % 2 === 1 ? known[middle] : ((known[middle - 1] as number) + (known[middle] as number)) / 2;
}

/** `numerator / denominator`; undefined when either is unknown or the denominator is 0. */
export function ratio(numerator: number | undefined, denominator: number | undefined): number | undefined {
  return numerator === undefined || denominator === undefined || denominator === 0
    ? undefined
    : numerator / denominator;
}

/** The machine the figures come from, for the report. */
export function machine(): Record<string, string | number> {
  return {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.availableParallelism(),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
  };
}

/** A figure for the table, with thousands separators and `digits` decimals; `—` when unknown. */
export function format(value: number | undefined, digits: number): string {
  return value === undefined
    ? '—'
    : value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Prints a table: the first column left-aligned, the others right-aligned, each as wide as its widest cell. */
export function printColumns(header: readonly string[], lines: readonly (readonly string[])[]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] as string).length)));
  const render = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ');
  console.log(render(header));
  for (const line of lines) console.log(render(line));
}
