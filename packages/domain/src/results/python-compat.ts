/**
 * The bits of Python's number formatting that CARLA's results depend on, so that Pitwall writes the
 * same numbers and the same text as the official tooling: round(), repr() of floats, json.dump().
 */

/**
 * Python's round(x, digits) for floats: the decimal nearest to the exact binary value of x, ties to
 * even, converted back to the nearest float. (JavaScript's toFixed breaks ties upwards instead.)
 */
export function pyRound(x: number, digits: number): number {
  if (!Number.isFinite(x) || x === 0 || !Number.isInteger(digits) || digits < 0 || digits > 20) return x;
  const magnitude = Math.abs(x);
  if (magnitude >= 2 ** 52) return x; // already a whole number
  // toFixed(100) is the exact expansion for every value where rounding can tie (>= 0.5e-20).
  const [whole = '0', fraction = ''] = magnitude.toFixed(100).split('.');
  const kept = fraction.slice(0, digits);
  const rest = fraction.slice(digits);
  const first = rest.charCodeAt(0) - 48;
  const tie = first === 5 && /^0*$/.test(rest.slice(1));
  const lastKept = Number((whole + kept).slice(-1));
  const up = first > 5 || (first === 5 && !tie) || (tie && lastKept % 2 === 1);
  const scaled = BigInt(whole + kept) + (up ? 1n : 0n);
  const rounded = Number(`${scaled}e-${digits}`);
  return x < 0 ? -rounded : rounded;
}

/** Python's repr()/str() of a float: shortest round-trip digits, '.0' on whole numbers, e-05 style exponents. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Number.POSITIVE_INFINITY) return 'inf';
  if (x === Number.NEGATIVE_INFINITY) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  const [mantissa = '', exponentText = '0'] = Math.abs(x).toExponential().split('e');
  const digits = mantissa.replace('.', '');
  const exponent = Number(exponentText);
  if (exponent >= -4 && exponent < 16) {
    if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
    const whole = digits.slice(0, exponent + 1).padEnd(exponent + 1, '0');
    return `${sign}${whole}.${digits.slice(exponent + 1) || '0'}`;
  }
  const head = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  const expSign = exponent < 0 ? '-' : '+';
  return `${sign}${head}e${expSign}${String(Math.abs(exponent)).padStart(2, '0')}`;
}

/** Marks a number that Python holds as a float, so that it is written as `12.0`, not `12`. */
export class PyFloat {
  constructor(readonly value: number) {}
}

export type PyJson =
  | null
  | boolean
  | number
  | string
  | PyFloat
  | readonly PyJson[]
  | { readonly [key: string]: PyJson };

/** Python's json.dumps(value, indent=4, sort_keys=True) with its default ensure_ascii=True. */
export function pyJsonDumps(value: PyJson, indent = 4): string {
  return write(value, 0, indent);
}

function write(value: PyJson, depth: number, indent: number): string {
  if (value === null) return 'null';
  if (value === true) return 'true';
  if (value === false) return 'false';
  if (typeof value === 'number') return pyIntOrFloat(value);
  if (typeof value === 'string') return pyJsonString(value);
  if (value instanceof PyFloat) return pyJsonFloat(value.value);
  const pad = ' '.repeat(indent * (depth + 1));
  const close = ' '.repeat(indent * depth);
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return `[\n${value.map((item) => pad + write(item, depth + 1, indent)).join(',\n')}\n${close}]`;
  }
  const entries = Object.entries(value as Record<string, PyJson>).sort(([a], [b]) => compareCodePoints(a, b));
  if (entries.length === 0) return '{}';
  return `{\n${entries.map(([k, v]) => `${pad}${pyJsonString(k)}: ${write(v, depth + 1, indent)}`).join(',\n')}\n${close}}`;
}

/** A plain number is a Python int when it is whole, else a float. */
function pyIntOrFloat(value: number): string {
  return Number.isSafeInteger(value) ? String(value) : pyJsonFloat(value);
}

function pyJsonFloat(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return 'Infinity';
  if (value === Number.NEGATIVE_INFINITY) return '-Infinity';
  return pyFloatRepr(value);
}

const SHORT_ESCAPES: Readonly<Record<string, string>> = {
  '"': '\\"',
  '\\': '\\\\',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\b': '\\b',
  '\f': '\\f',
};

/** json's ensure_ascii encoding: everything outside printable ASCII as \uXXXX (UTF-16 units). */
function pyJsonString(text: string): string {
  let out = '"';
  for (let i = 0; i < text.length; i++) {
    const char = text[i] as string;
    const code = text.charCodeAt(i);
    const short = SHORT_ESCAPES[char];
    if (short) out += short;
    else if (code < 0x20 || code > 0x7e) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += char;
  }
  return `${out}"`;
}

/** Python sorts str keys by code point; JavaScript's default sort compares UTF-16 units. */
function compareCodePoints(a: string, b: string): number {
  const left = Array.from(a);
  const right = Array.from(b);
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    const diff = (left[i]?.codePointAt(0) ?? 0) - (right[i]?.codePointAt(0) ?? 0);
    if (diff !== 0) return diff;
  }
  return left.length - right.length;
}
