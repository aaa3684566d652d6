/**
 * Request bodies as the dev receiver reads them: content negotiation, decompression, and parsing into entries.
 * Pure functions; every refusal is a {@link RejectedBody} carrying the HTTP status and a message for the client.
 * @module
 */
import { constants } from 'node:buffer';
import { promisify } from 'node:util';
import { gunzip, inflate } from 'node:zlib';

const gunzipAsync = promisify(gunzip);
const inflateAsync = promisify(inflate);

/** A request body the receiver refuses: `status` is the HTTP answer, `message` says why in one line. */
export class RejectedBody extends Error {
  override readonly name = 'RejectedBody';

  constructor(
    /** 400 (unreadable), 413 (too large) or 415 (unsupported type or encoding). */
    readonly status: 400 | 413 | 415,
    message: string,
  ) {
    super(message);
  }
}

/** How a body holds entries: one JSON value (an object, or an array of entries), or one JSON value per line. */
export type BodyFormat = 'json' | 'ndjson';

const NDJSON_TYPES = new Set([
  'application/x-ndjson',
  'application/ndjson',
  'application/jsonl',
  'application/x-jsonlines',
  'application/jsonlines',
]);

/**
 * The body format named by a `Content-Type` header. A missing header or `text/plain` is read as JSON.
 * @throws RejectedBody 415 for any other media type.
 */
export function bodyFormat(contentType: string | undefined): BodyFormat {
  const mediaType = (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase();
  if (NDJSON_TYPES.has(mediaType)) return 'ndjson';
  if (
    mediaType === '' ||
    mediaType === 'application/json' ||
    mediaType === 'text/plain' ||
    mediaType.endsWith('+json')
  ) {
    return 'json';
  }
  throw new RejectedBody(415, `unsupported Content-Type "${mediaType}": send application/json or application/x-ndjson`);
}

/**
 * The body as text, decompressed per `Content-Encoding` (`gzip`, `deflate` or none).
 * @param maxBytes - largest decompressed size accepted.
 * @throws RejectedBody 413 when the decompressed body is over `maxBytes`, 400 when it does not decompress or is
 *   not UTF-8, 415 for another encoding.
 */
export async function decodeBody(raw: Buffer, contentEncoding: string | undefined, maxBytes: number): Promise<string> {
  const encoding = (contentEncoding ?? '').trim().toLowerCase();
  let bytes: Buffer;
  if (encoding === '' || encoding === 'identity') bytes = raw;
  else if (encoding === 'gzip' || encoding === 'x-gzip' || encoding === 'deflate') {
    const decompress = encoding === 'deflate' ? inflateAsync : gunzipAsync;
    try {
      // zlib refuses a bound over the largest Buffer; no body can be larger anyway.
      bytes = await decompress(raw, { maxOutputLength: Math.min(maxBytes, constants.MAX_LENGTH) });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        throw new RejectedBody(413, `body over the ${maxBytes}-byte limit once decompressed`);
      }
      throw new RejectedBody(400, `body is not valid ${encoding === 'deflate' ? 'deflate' : 'gzip'} data`);
    }
  } else {
    throw new RejectedBody(
      415,
      `unsupported Content-Encoding "${encoding}": send gzip, deflate or an uncompressed body`,
    );
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new RejectedBody(400, 'body is not valid UTF-8');
  }
}

/**
 * Deepest nesting of arrays and objects accepted. Far beyond any log entry, and well below the few thousand levels
 * at which `JSON.stringify` (used to print an entry) overflows the stack.
 */
export const MAX_JSON_DEPTH = 1000;

/**
 * The entries of a decoded body: the elements of a JSON array, the one JSON value otherwise, or one value per
 * non-blank NDJSON line.
 * @param maxEntries - most entries accepted; the body is refused before more than this many are parsed.
 * @throws RejectedBody 400 naming the problem (and the NDJSON line) when the body is not valid JSON or nests
 *   deeper than {@link MAX_JSON_DEPTH}; 413 when it holds more than `maxEntries` entries.
 */
export function parseEntries(text: string, format: BodyFormat, maxEntries = Infinity): unknown[] {
  if (format === 'ndjson') {
    const entries: unknown[] = [];
    // Line by line rather than split('\n'): a body of millions of short lines is refused without making them all.
    for (let start = 0, lineNumber = 1; start < text.length; lineNumber++) {
      const newline = text.indexOf('\n', start);
      const end = newline === -1 ? text.length : newline;
      const line = text.slice(start, end);
      start = end + 1;
      if (line.trim() === '') continue;
      if (entries.length === maxEntries) throw tooManyEntries(maxEntries);
      entries.push(parseJson(line, `line ${lineNumber}`));
    }
    return entries;
  }
  if (text.trim() === '') throw new RejectedBody(400, 'empty body: expected a JSON object or array');
  const value = parseJson(text, 'body', maxEntries);
  return Array.isArray(value) ? value : [value];
}

const MAX_REASON_LENGTH = 160;

/** Parses one JSON value; `maxItems` bounds the elements of a top-level array, counted before it is built. */
function parseJson(text: string, where: string, maxItems = Infinity): unknown {
  const { depth, topLevelItems } = scanJson(text);
  if (depth > MAX_JSON_DEPTH) throw tooDeep(where);
  if (topLevelItems > maxItems && /^\s*\[/.test(text)) throw tooManyEntries(maxItems);
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const reason = (error as Error).message;
    const shortReason = reason.length > MAX_REASON_LENGTH ? `${reason.slice(0, MAX_REASON_LENGTH)}…` : reason;
    throw new RejectedBody(400, `invalid JSON (${where}): ${shortReason}`);
  }
}

function tooDeep(where: string): RejectedBody {
  return new RejectedBody(400, `JSON nested deeper than ${MAX_JSON_DEPTH} levels (${where})`);
}

function tooManyEntries(maxEntries: number): RejectedBody {
  return new RejectedBody(413, `more entries than the ${maxEntries}-entry limit per request`);
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/**
 * One cheap pass over JSON text, outside strings: its deepest nesting, and its top-level items (commas at depth 1,
 * plus one), which for an array is its element count. Exact for valid JSON; invalid JSON is refused by the parse.
 */
function scanJson(text: string): { depth: number; topLevelItems: number } {
  let depth = 0;
  let maxDepth = 0;
  let commas = 0;
  let inString = false;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (inString) {
      if (code === BACKSLASH) index++;
      else if (code === QUOTE) inString = false;
    } else if (code === QUOTE) inString = true;
    else if (code === OPEN_BRACKET || code === OPEN_BRACE) maxDepth = Math.max(maxDepth, ++depth);
    else if (code === CLOSE_BRACKET || code === CLOSE_BRACE) depth--;
    else if (code === COMMA && depth === 1) commas++;
  }
  return { depth: maxDepth, topLevelItems: commas + 1 };
}
