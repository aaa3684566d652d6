/**
 * Reads the top-level fields of a JSON object as the JSON texts of each key and value, without parsing them. A
 * backend that re-wraps every value in its own record shape (OTLP's `AnyValue`) can then copy a string's JSON text
 * as it is, instead of parsing it and writing it again: for the flat entries most applications log, that is most
 * of the cost of building a record.
 * @module
 */

const SPACE = 0x20;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

/**
 * The fields of the JSON object `json` as texts, key and value alternating: `['"a"', '1', '"b"', '{"c":[]}']` for
 * `{"a":1,"b":{"c":[]}}`. Each text is a slice of `json`: a key is a JSON string literal, a value any JSON value.
 *
 * `json` is expected as `JSON.stringify` writes it: no whitespace between tokens, valid strings and numbers. Only
 * the structure is checked: text in another form (whitespace, a truncated object) gives `undefined`, and the
 * caller parses it instead.
 */
export function readFieldTexts(json: string): string[] | undefined {
  const last = json.length - 1;
  if (json.charCodeAt(0) !== OPEN_OBJECT || json.charCodeAt(last) !== CLOSE_OBJECT) return undefined;
  const texts: string[] = [];
  if (last === 1) return texts;
  let at = 1;
  for (;;) {
    if (json.charCodeAt(at) !== QUOTE) return undefined;
    const keyEnd = stringEnd(json, at);
    if (keyEnd < 0 || json.charCodeAt(keyEnd) !== COLON) return undefined;
    const valueEnd = valueEndAt(json, keyEnd + 1);
    if (valueEnd <= keyEnd + 1) return undefined;
    texts.push(json.slice(at, keyEnd), json.slice(keyEnd + 1, valueEnd));
    if (valueEnd === last) return texts;
    if (json.charCodeAt(valueEnd) !== COMMA) return undefined;
    at = valueEnd + 1;
  }
}

/**
 * The fields of the JSON object `json` as {@link readFieldTexts} gives them, whatever its form: text not in
 * `JSON.stringify`'s form is parsed and its fields written again.
 * @throws SyntaxError when `json` is not JSON.
 */
export function fieldTexts(json: string): string[] {
  const texts = readFieldTexts(json);
  if (texts !== undefined) return texts;
  return Object.entries(JSON.parse(json) as object).flatMap(([key, value]) => [
    JSON.stringify(key),
    JSON.stringify(value),
  ]);
}

/** The index just past the string literal that opens at `open`, or -1 if it does not close. */
function stringEnd(json: string, open: number): number {
  let from = open + 1;
  for (;;) {
    const close = json.indexOf('"', from);
    if (close < 0) return -1;
    // The quote is escaped when an odd number of backslashes precede it.
    let backslashes = 0;
    while (json.charCodeAt(close - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return close + 1;
    from = close + 1;
  }
}

/**
 * The index just past the value that starts at `start`: a string, an object or array (brackets matched, strings
 * inside skipped), or a scalar (up to the next `,` or `}` of this object). -1 if it does not end.
 */
function valueEndAt(json: string, start: number): number {
  const first = json.charCodeAt(start);
  if (first === QUOTE) return stringEnd(json, start);
  if (first !== OPEN_OBJECT && first !== OPEN_ARRAY) {
    // A scalar (number, true, false, null) runs to the next comma or brace; whitespace ends it too, and then the
    // caller finds no comma after it.
    let at = start;
    for (let code = json.charCodeAt(at); code > SPACE && code !== COMMA && code !== CLOSE_OBJECT;) {
      code = json.charCodeAt(++at);
    }
    return at;
  }
  let depth = 0;
  for (let at = start; at < json.length; at++) {
    const code = json.charCodeAt(at);
    if (code === QUOTE) {
      at = stringEnd(json, at) - 1;
      if (at < 0) return -1;
    } else if (code === OPEN_OBJECT || code === OPEN_ARRAY) depth++;
    else if ((code === CLOSE_OBJECT || code === CLOSE_ARRAY) && --depth === 0) return at + 1;
  }
  return -1;
}
