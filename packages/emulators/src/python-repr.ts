import { pyFloatRepr } from '@pitwall/domain';

/** A JSON value as Python holds it after json.loads: its str(), and its members. */
export interface PyNode {
  readonly repr: string;
  readonly items?: readonly PyNode[];
  readonly fields?: ReadonlyMap<string, PyNode>;
}

/** Python's `str()` of what `json.loads(text)` returns. */
export function pythonReprOfJson(text: string): string {
  return parsePyJson(text).repr;
}

/**
 * `json.loads(text)` as Python sees it, for writing EvalAI's participant result file
 * (`ContentFile(str(public_results))`). JSON numbers keep Python's int/float distinction, which
 * JSON.parse loses, so the text is read token by token.
 */
export function parsePyJson(text: string): PyNode {
  let at = 0;
  const space = () => {
    while (at < text.length && ' \t\n\r'.includes(text[at] as string)) at++;
  };
  const expect = (char: string) => {
    space();
    if (text[at] !== char) throw new SyntaxError(`expected ${char} at ${at}`);
    at++;
  };
  const value = (): PyNode => {
    space();
    const char = text[at];
    if (char === '{') {
      at++;
      const fields = new Map<string, PyNode>();
      space();
      if (text[at] !== '}') {
        for (;;) {
          space();
          const key = string();
          expect(':');
          fields.delete(key); // a repeated key keeps its last value, at its last place (a dict)
          fields.set(key, value());
          space();
          if (text[at] === ',') at++;
          else break;
        }
      }
      expect('}');
      const repr = `{${[...fields].map(([key, node]) => `${pyStr(key)}: ${node.repr}`).join(', ')}}`;
      return { repr, fields };
    }
    if (char === '[') {
      at++;
      const items: PyNode[] = [];
      space();
      if (text[at] !== ']') {
        for (;;) {
          items.push(value());
          space();
          if (text[at] === ',') at++;
          else break;
        }
      }
      expect(']');
      return { repr: `[${items.map((node) => node.repr).join(', ')}]`, items };
    }
    if (char === '"') return { repr: pyStr(string()) };
    for (const [word, repr] of [
      ['true', 'True'],
      ['false', 'False'],
      ['null', 'None'],
    ] as const) {
      if (text.startsWith(word, at)) {
        at += word.length;
        return { repr };
      }
    }
    const number = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(at))?.[0];
    if (!number) throw new SyntaxError(`unexpected ${char ?? 'end'} at ${at}`);
    at += number.length;
    return { repr: /[.eE]/.test(number) ? pyFloatRepr(Number(number)) : BigInt(number).toString() };
  };
  const string = (): string => {
    space();
    const match = /^"(?:[^"\\]|\\.)*"/.exec(text.slice(at));
    if (!match) throw new SyntaxError(`expected a string at ${at}`);
    at += match[0].length;
    return JSON.parse(match[0]) as string;
  };
  const result = value();
  space();
  if (at !== text.length) throw new SyntaxError(`unexpected text at ${at}`);
  return result;
}

/** Python's repr() of a str: single quotes unless the text has one and no double quote. */
export function pyStr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = '';
  for (const char of text) {
    const code = char.codePointAt(0) as number;
    if (char === '\\') out += '\\\\';
    else if (char === quote) out += `\\${quote}`;
    else if (char === '\n') out += '\\n';
    else if (char === '\r') out += '\\r';
    else if (char === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += char;
  }
  return `${quote}${out}${quote}`;
}
