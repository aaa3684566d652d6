/**
 * The protocol-neutral snapshot of an entry that the backend protocols (every protocol but `'http'`) take in
 * `log()`: a plain string (it is queued, spooled, and may cross a thread) holding everything their record shapes
 * need, built cheaply and read back cheaply when a request is built. Its form:
 * `<timeMs>\0<level as a JSON string, or nothing>\0<the entry's fields as a JSON object>`. JSON text never holds a
 * raw NUL (it escapes control characters), so the first two NULs are always the separators.
 * @module
 */
import type { BatchLimits } from '../../delivery/codec.js';
import { type EntrySize, type LogInfo, loggedLevel, type Snapshotter, uncolouredLevel } from './encoder.js';
import { isFlatRecord, stringifyRecord } from './json-value.js';

/** Separates the parts of a snapshot. */
const SEPARATOR = '\u0000';

/** A snapshot read back: what a backend protocol builds its record from. */
export interface EntrySnapshot {
  /** When the entry was logged, in ms since the epoch. */
  readonly timeMs: number;
  /**
   * The level the entry was logged at ({@link loggedLevel}); `undefined` when that was not a string (the
   * protocols then treat the entry as having none, as they did when they read the entry itself).
   */
  readonly level: string | undefined;
  /**
   * The entry's fields as JSON text of an object, `level` without terminal colour codes (see
   * {@link uncolouredLevel}): what `JSON.stringify` writes for them after converting them to plain JSON values.
   */
  readonly fieldsJson: string;
}

/**
 * JSON text of an entry's own fields, `level` uncoloured: `fieldsJson` (what winston's `json()` format wrote) when
 * given and usable as is (a flat entry whose level has no colour codes), else serialized here.
 */
export function entryFieldsJson(info: LogInfo, fieldsJson?: string): string {
  const level = uncolouredLevel(info.level);
  // A coloured level is sent uncoloured: then neither the entry nor the line json() wrote (colours included) will do.
  const record = level === info.level ? info : withLevel(info, level);
  return fieldsJson !== undefined && record === info && isFlatRecord(info) ? fieldsJson : stringifyRecord(record);
}

/** A copy of `info` with another `level`, in the same place; copied without reading getters, which may throw. */
function withLevel(info: LogInfo, level: string): LogInfo {
  const copy = Object.create(Object.getPrototypeOf(info) as object, Object.getOwnPropertyDescriptors(info)) as LogInfo;
  Object.defineProperty(copy, 'level', { value: level, enumerable: true, writable: true, configurable: true });
  return copy;
}

/** The last snapshot prefix built, reused while the millisecond and the level stay the same. */
let prefixMs = Number.NaN;
let prefixLevel: string | undefined;
let prefix = '';
/** The UTF-8 length of {@link prefix}. */
let prefixBytes = 0;

/** `<timeMs>\0<level JSON>\0`, built once per millisecond and level. */
function snapshotPrefix(timeMs: number, level: string | undefined): string {
  if (timeMs !== prefixMs || level !== prefixLevel) {
    prefix = `${timeMs}${SEPARATOR}${level === undefined ? '' : JSON.stringify(level)}${SEPARATOR}`;
    prefixBytes = Buffer.byteLength(prefix);
    prefixMs = timeMs;
    prefixLevel = level;
  }
  return prefix;
}

/**
 * The neutral snapshot of an entry (see the module's description); sets `size.bytes` to its UTF-8 length when
 * `size` is given, measured in parts (cheaper than measuring the concatenation). The fields are the line winston's
 * `json()` format already wrote when it is the logger's format (`fieldsJson`, keys sorted, as it prints them; the
 * same values), else serialized here in the entry's own key order: one serialization per entry either way.
 */
function snapshotEntry(info: LogInfo, timeMs: number, size?: EntrySize, fieldsJson?: string): string {
  const logged = loggedLevel(info);
  const head = snapshotPrefix(timeMs, typeof logged === 'string' ? logged : undefined);
  // Read now: serializing the fields runs the entry's getters and toJSON(), which may take another snapshot.
  const headBytes = prefixBytes;
  const text = entryFieldsJson(info, fieldsJson);
  // An entry whose toJSON() gives no object has no fields, as the backends always treated it.
  const fields = text[0] === '{' ? text : '{}';
  if (size !== undefined) size.bytes = headBytes + Buffer.byteLength(fields);
  return head + fields;
}

/** The snapshotter of every backend protocol. */
export const NEUTRAL_SNAPSHOTTER: Snapshotter = { snapshot: snapshotEntry };

/**
 * Reads a snapshot {@link NEUTRAL_SNAPSHOTTER} took. Anything else (an entry an earlier version kept in a spool, in
 * its protocol's record shape) reads as an entry whose message is that text, logged now: sent, not lost, and
 * never a request that cannot be built.
 */
export function readSnapshot(snapshot: string): EntrySnapshot {
  const timeEnd = snapshot.indexOf(SEPARATOR);
  const levelEnd = snapshot.indexOf(SEPARATOR, timeEnd + 1);
  const timeMs = Number(snapshot.slice(0, timeEnd));
  if (timeEnd <= 0 || levelEnd < 0 || !Number.isFinite(timeMs) || snapshot[levelEnd + 1] !== '{') {
    return { timeMs: Date.now(), level: undefined, fieldsJson: JSON.stringify({ message: snapshot }) };
  }
  const levelJson = snapshot.slice(timeEnd + 1, levelEnd);
  return {
    timeMs,
    level:
      levelJson === ''
        ? undefined
        : levelJson.includes('\\')
          ? (JSON.parse(levelJson) as string)
          : levelJson.slice(1, -1),
    fieldsJson: snapshot.slice(levelEnd + 1),
  };
}

/**
 * How a backend's request grows with its entries' snapshots: each entry's part of the body is at most
 * `factor` times its snapshot's bytes plus `bytesPerEntry`, and the body adds `bytesPerRequest` once.
 */
export interface WireGrowth {
  readonly factor: number;
  readonly bytesPerEntry: number;
  readonly bytesPerRequest: number;
}

/**
 * The batching bounds, counted in snapshot bytes (what the queue measures), that keep every body within the
 * `batch` limits in force in wire bytes: a request whose snapshots and framing, as counted, fit `maxBytes / factor`
 * has a body of at most `maxBytes`. Its `maxEntries` and `maxDelayMs` are kept as they are.
 */
export function snapshotBounds(batch: BatchLimits, growth: WireGrowth): BatchLimits {
  return {
    maxEntries: batch.maxEntries,
    maxDelayMs: batch.maxDelayMs,
    maxBytes: Math.floor(batch.maxBytes / growth.factor),
    bytesPerEntry: Math.ceil(growth.bytesPerEntry / growth.factor),
    bytesPerRequest: Math.ceil(growth.bytesPerRequest / growth.factor),
  };
}
