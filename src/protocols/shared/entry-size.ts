import type { LogInfo, Snapshotter } from './encoder.js';

/**
 * Takes again the snapshot of an entry whose snapshot is over `maxBytes`, with its `message` cut short and marked
 * `…[truncated N bytes]`, so that the entry still arrives.
 * @param size - the size of the entry's first snapshot, in bytes.
 * @returns the shortened snapshot, or `undefined` when the message is not a string or the entry is still too
 *   large without it (the caller drops it).
 */
export function encodeTruncated(
  snapshotter: Snapshotter,
  info: LogInfo,
  timeMs: number,
  maxBytes: number,
  size: number,
): string | undefined {
  const message = info.message;
  if (typeof message !== 'string') return undefined;
  const raw = Buffer.from(message);
  // JSON escapes make the encoded message longer than its raw bytes (up to 6x), so the first cut is scaled by
  // that ratio; removing the remaining excess from the raw bytes then fits after one more pass at most. The
  // slack leaves room for the marker.
  const encodedBytes = Buffer.byteLength(JSON.stringify(message)) - 2;
  let keep = Math.floor((raw.length * (encodedBytes - (size - maxBytes) - 64)) / encodedBytes);
  for (let pass = 0; pass < 3 && keep >= 0; pass++) {
    const kept = utf8Prefix(raw, keep);
    const truncated = `${kept}…[truncated ${raw.length - Buffer.byteLength(kept)} bytes]`;
    const line = snapshotter.snapshot(withMessage(info, truncated), timeMs);
    const lineSize = Buffer.byteLength(line);
    if (lineSize <= maxBytes) return line;
    keep -= lineSize - maxBytes + 64;
  }
  return undefined;
}

/**
 * `info` with its `message` replaced. An `Error` (the entry of `logger.error(err)`) stays one, with every own
 * property (its `stack` and `cause` are not enumerable: a spread would leave them out, and the entry would lose
 * them).
 */
function withMessage(info: LogInfo, message: string): LogInfo {
  if (!(info instanceof Error)) return { ...info, message };
  const copy = Object.create(Object.getPrototypeOf(info) as object) as Error;
  Object.defineProperties(copy, Object.getOwnPropertyDescriptors(info));
  // As values: an accessor's getter (V8's `stack`, on some versions) may not work on another object.
  const enumerable = Object.prototype.propertyIsEnumerable.call(info, 'message');
  Object.defineProperty(copy, 'message', { value: message, enumerable, writable: true, configurable: true });
  Object.defineProperty(copy, 'stack', { value: info.stack, writable: true, configurable: true });
  return copy as unknown as LogInfo;
}

/** The longest prefix of `bytes` of at most `max` bytes that does not split a UTF-8 character. */
function utf8Prefix(bytes: Buffer, max: number): string {
  let end = Math.min(max, bytes.length);
  while (end > 0 && end < bytes.length && ((bytes[end] as number) & 0xc0) === 0x80) end--;
  return bytes.toString('utf8', 0, end);
}
