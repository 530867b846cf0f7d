/**
 * Parser for Caffe's protobuf text format (a deploy .prototxt): `key: value`
 * pairs and `key { ... }` blocks. Every key maps to an array because any field
 * may repeat; values stay strings (numbers and enums are read by the caller).
 */
export interface TextMessage {
  [key: string]: Array<string | TextMessage>;
}

const TOKEN = /\s*(?:#[^\n]*|("(?:[^"\\]|\\.)*")|([{}:])|([^\s{}:#"]+))/y;

function tokenize(text: string): string[] {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.length) {
    const at = TOKEN.lastIndex;
    const m = TOKEN.exec(text);
    if (!m) {
      if (/^\s*$/.test(text.slice(at))) break;
      throw new Error(`prototxt: unexpected character at offset ${at}`);
    }
    const tok = m[1] ?? m[2] ?? m[3];
    if (tok !== undefined) tokens.push(tok);
  }
  return tokens;
}

export function parsePrototxt(text: string): TextMessage {
  const tokens = tokenize(text);
  let i = 0;
  const block = (closing: boolean): TextMessage => {
    const msg: TextMessage = {};
    while (i < tokens.length) {
      const key = tokens[i++]!;
      if (key === '}') {
        if (!closing) throw new Error('prototxt: unbalanced "}"');
        return msg;
      }
      if (tokens[i] === ':') i++;
      const next = tokens[i++];
      if (next === undefined) throw new Error(`prototxt: "${key}" has no value`);
      const value = next === '{' ? block(true) : next.startsWith('"') ? (JSON.parse(next) as string) : next;
      (msg[key] ??= []).push(value);
    }
    if (closing) throw new Error('prototxt: missing "}"');
    return msg;
  };
  return block(false);
}

/** Accessors that say which field was missing or malformed. */
export function field(msg: TextMessage, key: string): TextMessage | undefined {
  const v = msg[key]?.[0];
  if (v !== undefined && typeof v === 'string') throw new Error(`prototxt: "${key}" is a value, expected a block`);
  return v;
}
export function strings(msg: TextMessage | undefined, key: string): string[] {
  return (msg?.[key] ?? []).map((v) => {
    if (typeof v !== 'string') throw new Error(`prototxt: "${key}" is a block, expected a value`);
    return v;
  });
}
export function numbers(msg: TextMessage | undefined, key: string): number[] {
  return strings(msg, key).map((s) => {
    const n = Number(s);
    if (!Number.isFinite(n)) throw new Error(`prototxt: "${key}: ${s}" is not a number`);
    return n;
  });
}
