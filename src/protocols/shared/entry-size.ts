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
  const rawBytes = Buffer.byteLength(message);
  // JSON escapes make the encoded message longer than its raw bytes (up to 6x), so the first cut is scaled by
  // that ratio; removing the remaining excess from the raw bytes then fits after one more pass at most. The
  // slack leaves room for the marker.
  const encodedBytes = Buffer.byteLength(JSON.stringify(message)) - 2;
  let keep = Math.floor((rawBytes * (encodedBytes - (size - maxBytes) - 64)) / encodedBytes);
  for (let pass = 0; pass < 3 && keep >= 0; pass++) {
    const kept = prefixWithin(message, keep);
    const truncated = `${kept}…[truncated ${rawBytes - Buffer.byteLength(kept)} bytes]`;
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

const utf8 = new TextEncoder();

/**
 * The longest prefix of `text` of at most `maxBytes` bytes in UTF-8 that does not split a character (a surrogate
 * pair included). Cut as a string, not as bytes: a lone surrogate kept stays one (JSON writes it as `\udXXX`)
 * instead of becoming U+FFFD, as it would through a Buffer.
 */
function prefixWithin(text: string, maxBytes: number): string {
  if (maxBytes <= 0) return '';
  const { read } = utf8.encodeInto(text, new Uint8Array(Math.min(maxBytes, text.length * 3)));
  return text.slice(0, read);
}
