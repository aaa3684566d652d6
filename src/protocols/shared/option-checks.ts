/**
 * The checks protocol options share. Each throws a TypeError naming the option (`winston-logstream: option
 * "<name>" …`) and never quotes a value, which may be a secret.
 * @module
 */
import { HEADER_VALUE } from '../../headers.js';

/** An options object as given: its fields are not checked yet. */
export type Unchecked<T> = { readonly [K in keyof T]?: unknown };

/** The error every option check throws. */
export function optionError(message: string): TypeError {
  return new TypeError(`winston-logstream: ${message}`);
}

/** An options object, or `{}` when absent. */
export function section<T extends object>(value: unknown, name: string): Unchecked<T> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw optionError(`option "${name}" must be an object`);
  }
  return value;
}

/** A non-empty string without line breaks (it may end up in a header), or undefined. The value is never echoed. */
export function optionalString(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '' || /[\r\n]/.test(value)) {
    throw optionError(`option "${name}" must be a non-empty string without line breaks`);
  }
  return value;
}

/**
 * Several {@link optionalString} fields of one options object, named `<prefix>.<key>` in messages.
 * @returns each key with its string, or `undefined` when not given.
 */
export function optionalStrings<K extends string>(
  given: Unchecked<Record<K, unknown>>,
  keys: readonly K[],
  prefix: string,
): Record<K, string | undefined> {
  const strings: Partial<Record<K, string | undefined>> = {};
  for (const key of keys) strings[key] = optionalString(given[key], `${prefix}.${key}`);
  return strings as Record<K, string | undefined>;
}

/** A secret sent in a header: checked here, so that it cannot fail at send time. Never echoed. */
export function optionalSecret(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '' || !HEADER_VALUE.test(value)) {
    throw optionError(`option "${name}" must be a non-empty string of visible Latin-1 characters`);
  }
  return value;
}

/** A secret the backend requires, unless the user sends the header it goes into themselves. */
export function requiredSecret(
  value: unknown,
  name: string,
  header: string,
  userHeaders: Readonly<Record<string, string>>,
): string | undefined {
  const secret = optionalSecret(value, name);
  if (secret === undefined && !Object.hasOwn(userHeaders, header)) {
    throw optionError(`option "${name}" is required (or a "${header}" header in option "headers")`);
  }
  return secret;
}

/** The request header a secret goes into, or no header when the secret is not given. */
export function secretHeader(header: string, secret: string | undefined, scheme?: string): Record<string, string> {
  if (secret === undefined) return {};
  return { [header]: scheme === undefined ? secret : `${scheme} ${secret}` };
}
