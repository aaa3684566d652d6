/**
 * How the dev receiver prints: one readable line per entry, and the summary line.
 * @module
 */

/** ANSI colour codes by level name (winston's, npm's, syslog's and the Rust logger's). */
const LEVEL_COLOURS: Readonly<Record<string, number>> = {
  emerg: 31,
  alert: 31,
  crit: 31,
  error: 31,
  warning: 33,
  warn: 33,
  notice: 36,
  info: 32,
  http: 36,
  verbose: 36,
  debug: 34,
  trace: 35,
  silly: 35,
};

/** Options of {@link formatEntry}. */
export interface FormatOptions {
  /** Colour the level with ANSI escapes. */
  readonly color: boolean;
  /** Shown when the entry has no `timestamp`. */
  readonly receivedAt: Date;
}

/**
 * One entry as a readable line: time, level, message, then the other fields as compact JSON. The time is the
 * entry's `timestamp` when it has one. Control characters are escaped everywhere (C0, DEL and C1, which JSON
 * leaves as they are), so an entry never spans lines nor drives the terminal.
 */
export function formatEntry(entry: unknown, options: FormatOptions): string {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    return `${options.receivedAt.toISOString()} ${escapeControls(JSON.stringify(entry))}`;
  }
  const { timestamp, level, message, ...meta } = entry as Record<string, unknown>;
  const time = typeof timestamp === 'string' ? escapeControls(timestamp) : options.receivedAt.toISOString();
  const levelText = (typeof level === 'string' ? escapeControls(level) : '-').padEnd(5);
  const key = typeof level === 'string' ? level.toLowerCase() : '';
  const colour = Object.hasOwn(LEVEL_COLOURS, key) ? LEVEL_COLOURS[key] : undefined;
  const shownLevel = options.color && colour !== undefined ? `\x1b[${colour}m${levelText}\x1b[39m` : levelText;
  const messageText =
    typeof message === 'string' ? escapeControls(message) : message === undefined ? '' : JSON.stringify(message);
  if (timestamp !== undefined && typeof timestamp !== 'string') meta.timestamp = timestamp;
  const metaText = Object.keys(meta).length > 0 ? ` ${escapeControls(JSON.stringify(meta))}` : '';
  return `${time} ${shownLevel} ${messageText}${metaText}`;
}

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/g;

/** `text` with every C0, DEL and C1 control character escaped as JSON would (`\n`, `\u001b`, `\u009b`). */
export function escapeControls(text: string): string {
  return text.replace(CONTROL_CHARACTERS, (character) => {
    const escaped = JSON.stringify(character).slice(1, -1);
    return escaped === character ? `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}` : escaped;
  });
}

/** What a receiver has taken in since it started. */
export interface ReceiverSummary {
  /** POST requests received, refused ones included. */
  requests: number;
  /** Requests answered 4xx. */
  rejected: number;
  /** Entries accepted. */
  entries: number;
  /** Request body bytes received, as sent (before decompression). */
  bytes: number;
}

/** The one-line summary printed when the receiver stops. */
export function formatSummary(summary: ReceiverSummary): string {
  const rejected = summary.rejected > 0 ? ` (${summary.rejected} rejected)` : '';
  return `winston-logstream-receiver: ${summary.requests} requests${rejected}, ${summary.entries} entries, ${summary.bytes} bytes`;
}
