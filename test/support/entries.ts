/** Entry shapes and sizes shared by the tests. */
import type { LogstreamLevel, Payload } from '../../src/index.js';

/** The Rust logger's `LogEntry` keys, in their order: the `'logstream'` payload's exact shape. */
export const LOGSTREAM_ENTRY_KEYS = ['level', 'message', 'target', 'module', 'file', 'line', 'timestamp'] as const;

/** winston levels (npm's and syslog's) and the Rust logger's level each maps to (any other maps to `info`). */
export const LOGSTREAM_LEVEL_MAPPING: readonly (readonly [string, LogstreamLevel])[] = [
  ['emerg', 'error'],
  ['alert', 'error'],
  ['crit', 'error'],
  ['error', 'error'],
  ['warning', 'warn'],
  ['warn', 'warn'],
  ['info', 'info'],
  ['http', 'info'],
  ['verbose', 'debug'],
  ['debug', 'debug'],
  ['silly', 'trace'],
  ['custom', 'info'],
];

/** Sends each entry's message as its whole payload: a JSON string, so an entry's size is the message length + 2. */
export const MESSAGE_ONLY: Payload = (info) => info.message;

/** A message whose {@link MESSAGE_ONLY} line is exactly `bytes` long and reads back as `seq`. */
export function sized(seq: number, bytes = 100): string {
  return String(seq).padStart(bytes - 2, '0');
}
