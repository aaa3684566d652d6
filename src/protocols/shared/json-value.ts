/**
 * JSON for anything a log call may carry. `JSON.stringify` throws on cycles and BigInt, renders `Error`,
 * `Map` and `Set` as `{}`, and overflows the stack on very deep objects; {@link toJsonValue} turns any value
 * into a plain tree that stringifies without throwing and says what it could not render.
 * @module
 */

/** Nesting beyond this many levels is cut off, so a 10,000-level object neither overflows the stack nor bloats a log line. */
export const MAX_DEPTH = 64;

/** A value `JSON.stringify` renders without throwing. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Renders a value that could not be read (a throwing getter, `toJSON` or proxy trap). */
function unreadable(error: unknown): string {
  return `[Unserializable: ${error instanceof Error ? error.name : typeof error}]`;
}

/**
 * Converts any value to a plain JSON tree: cycles become `"[Circular]"`, BigInt a decimal string, symbols
 * their description, `Error` `{ name, message, stack, ...own props }`, `Map` an object, `Set` an array, and
 * values that throw when read a `"[Unserializable: …]"` marker. Functions and `undefined` are left out of
 * objects (and `null` in arrays), as `JSON.stringify` does. Never throws.
 * @returns `undefined` only for a top-level function, `undefined` or symbol-less value JSON would omit.
 */
export function toJsonValue(value: unknown): JsonValue | undefined {
  return convert(value, '', 0, []);
}

function convert(value: unknown, key: string, depth: number, ancestors: object[]): JsonValue | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : null;
    case 'bigint':
      return value.toString();
    case 'symbol':
      return value.toString();
    case 'undefined':
    case 'function':
      return undefined;
  }
  if (value === null) return null;
  const object = value as object;
  if (ancestors.includes(object)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[Truncated: nested too deeply]';
  ancestors.push(object);
  try {
    return convertObject(object, key, depth, ancestors);
  } catch (error) {
    return unreadable(error);
  } finally {
    ancestors.pop();
  }
}

function convertObject(object: object, key: string, depth: number, ancestors: object[]): JsonValue | undefined {
  const next = depth + 1;
  if (object instanceof Error) {
    const fields: Record<string, unknown> = { name: object.name, message: object.message, stack: object.stack };
    if ('cause' in object) fields.cause = object.cause;
    return convertProperties(Object.assign(fields, object), next, ancestors);
  }
  const toJSON = (object as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return convert(toJSON.call(object, key), key, next, ancestors);
  if (Array.isArray(object) || ArrayBuffer.isView(object)) {
    return Array.from(
      object as ArrayLike<unknown>,
      (item, index) => convert(item, String(index), next, ancestors) ?? null,
    );
  }
  if (object instanceof Map) {
    const entries: Record<string, unknown> = {};
    for (const [k, v] of object)
      setOwn(entries, typeof k === 'string' ? k : mapKey(convert(k, '', next, ancestors)), v);
    return convertProperties(entries, next, ancestors);
  }
  if (object instanceof Set) {
    return Array.from(object, (item, index) => convert(item, String(index), next, ancestors) ?? null);
  }
  return convertProperties(object, next, ancestors);
}

/** A converted non-string `Map` key as an object key: `1` → `"1"`, `{ id: 1 }` → `'{"id":1}'`, not `"[object Object]"`. */
function mapKey(key: JsonValue | undefined): string {
  return typeof key === 'string' ? key : (JSON.stringify(key) ?? 'undefined');
}

/** Own enumerable string-keyed properties, each read on its own so one throwing getter spoils only itself. */
function convertProperties(object: object, depth: number, ancestors: object[]): { [key: string]: JsonValue } {
  const result: { [key: string]: JsonValue } = {};
  for (const key of Object.keys(object)) {
    let converted: JsonValue | undefined;
    try {
      converted = convert((object as Record<string, unknown>)[key], key, depth, ancestors);
    } catch (error) {
      converted = unreadable(error);
    }
    if (converted !== undefined) setOwn(result, key, converted);
  }
  return result;
}

/**
 * `record[key] = value`, as an own property even for `"__proto__"` (which an assignment would take as the object's
 * prototype, losing the field): parsed request bodies carry that key, from prototype-pollution probes.
 */
function setOwn<T>(record: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__')
    Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
  else record[key] = value;
}

/**
 * True when `JSON.stringify(record)` already gives the right answer: a plain object whose own values are all
 * strings, finite numbers, booleans, null or undefined. Checking this is much cheaper than converting.
 * False when a getter throws (converting then marks that field).
 */
export function isFlatRecord(record: object): boolean {
  if (Object.getPrototypeOf(record) !== Object.prototype) return false;
  try {
    for (const key in record) {
      const value = (record as Record<string, unknown>)[key];
      const type = typeof value;
      if (type === 'string' || type === 'boolean' || type === 'undefined' || value === null) continue;
      if (type !== 'number' || !Number.isFinite(value)) return false;
    }
  } catch {
    return false;
  }
  return true;
}

/** JSON text of any value: never throws for values {@link toJsonValue} can read; `null` for what JSON would omit. */
export function stringifyValue(value: unknown): string {
  return JSON.stringify(toJsonValue(value) ?? null);
}

/**
 * JSON text of an entry's fields: `JSON.stringify` directly when that is already right (the fast path for flat
 * entries), else through {@link toJsonValue}.
 */
export function stringifyRecord(record: object): string {
  try {
    if (isFlatRecord(record)) return JSON.stringify(record);
  } catch {
    // A getter that threw only on the second read: convert, which marks that field.
  }
  return stringifyValue(record);
}

/**
 * An entry's fields as a plain JSON object (see {@link toJsonValue}), for encoders that place fields one by one.
 * Flat entries are copied without conversion; fields JSON would omit (`undefined`, functions) are left out.
 */
export function toJsonFields(info: object): { [key: string]: JsonValue } {
  if (!isFlatRecord(info)) {
    const converted = toJsonValue(info);
    return typeof converted === 'object' && converted !== null && !Array.isArray(converted) ? converted : {};
  }
  const fields: { [key: string]: JsonValue } = {};
  for (const [key, value] of Object.entries(info)) if (value !== undefined) fields[key] = value as JsonValue;
  return fields;
}

/** A message as text: strings as they are, nothing as `''`, objects as JSON, anything else through `String`. */
export function messageText(message: unknown): string {
  if (typeof message === 'string') return message;
  if (message === undefined || message === null) return '';
  // Objects take the first branch: String() sees only primitives and functions, never '[object Object]'.
  // eslint-disable-next-line @typescript-eslint/no-base-to-string
  return typeof message === 'object' ? stringifyValue(message) : String(message);
}
