/**
 * What a diagnostic may say of an error: its code (`ENOSPC`, `ERR_MODULE_NOT_FOUND`) when it looks like one, else
 * its name. Never its message, which may quote anything (a path, a URL with its credentials).
 * @module
 */

/** `error`'s code when it is an `Error` with one that looks like a code (`ECONNRESET`, `Z_DATA_ERROR`). */
export function codeOf(error: unknown): string | undefined {
  if (!(error instanceof Error && 'code' in error)) return undefined;
  const code = String(error.code);
  return /^[A-Z][A-Z0-9_]{0,63}$/.test(code) ? code : undefined;
}

/** `error`'s code, or its name; `undefined` when it is no `Error`. */
export function errorCodeOf(error: unknown): string | undefined {
  return error instanceof Error ? (codeOf(error) ?? error.name) : undefined;
}
