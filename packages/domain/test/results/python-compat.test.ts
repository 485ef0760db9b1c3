import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { PyFloat, pyFloatRepr, pyJsonDumps, pyRound } from '../../src/results/python-compat.js';

// Expected values printed by CPython 3.11: repr(x), repr(round(x, 3)), repr(round(x, 6)).
const PYTHON_GOLDEN: readonly [number, string, string, string][] = [
  [0.0625, '0.0625', '0.062', '0.0625'],
  [0.125, '0.125', '0.125', '0.125'],
  [2.675, '2.675', '2.675', '2.675'],
  [1.0005, '1.0005', '1.0', '1.0005'],
  [12.3456785, '12.3456785', '12.346', '12.345678'],
  [0.0004999, '0.0004999', '0.0', '0.0005'],
  [99.9995, '99.9995', '99.999', '99.9995'],
  [100.0, '100.0', '100.0', '100.0'],
  [1e-5, '1e-05', '0.0', '1e-05'],
  [1.5e-7, '1.5e-07', '0.0', '0.0'],
  [123456789012345.67, '123456789012345.67', '123456789012345.67', '123456789012345.67'],
  [1e16, '1e+16', '1e+16', '1e+16'],
  [1.234e20, '1.234e+20', '1.234e+20', '1.234e+20'],
  [0.1 + 0.2, '0.30000000000000004', '0.3', '0.3'],
  [33.333333333333336, '33.333333333333336', '33.333', '33.333333'],
  [5e-324, '5e-324', '0.0', '0.0'],
  [0.0001, '0.0001', '0.0', '0.0001'],
  [0.00015, '0.00015', '0.0', '0.00015'],
];

describe('pyRound and pyFloatRepr', () => {
  it.each(PYTHON_GOLDEN)('match CPython for %p', (x, repr, round3, round6) => {
    expect(pyFloatRepr(x)).toBe(repr);
    expect(pyFloatRepr(pyRound(x, 3))).toBe(round3);
    expect(pyFloatRepr(pyRound(x, 6))).toBe(round6);
  });

  it.each([
    [2.675, 2, '2.67'],
    [0.125, 2, '0.12'],
    [0.375, 2, '0.38'],
    [2.5, 0, '2.0'],
    [3.5, 0, '4.0'],
    [-0.0004, 3, '-0.0'],
    [-2.675, 2, '-2.67'],
    [1234.5678, 0, '1235.0'],
    [0.045, 2, '0.04'],
  ])('round(%p, %p) is %p as in CPython (ties to even on the binary value)', (x, digits, expected) => {
    expect(pyFloatRepr(pyRound(x, digits))).toBe(expected);
  });

  it('never moves a value by more than half a unit of the last digit (property)', () => {
    fc.assert(
      fc.property(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.integer({ min: 0, max: 8 }), (x, digits) => {
        expect(Math.abs(pyRound(x, digits) - x)).toBeLessThanOrEqual(0.5 * 10 ** -digits * (1 + 1e-9) + 1e-9);
      }),
    );
  });

  it('repr round-trips (property)', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => {
        expect(Number(pyFloatRepr(x))).toBe(x);
      }),
    );
  });
});

describe('pyJsonDumps', () => {
  it("writes what Python's json.dumps(indent=4, sort_keys=True) writes", () => {
    const value = { b: [1, new PyFloat(2), {}], a: 'é\u007f"\n', c: [], d: { z: null, y: true } };
    expect(pyJsonDumps(value)).toBe(
      [
        '{',
        '    "a": "\\u00e9\\u007f\\"\\n",',
        '    "b": [',
        '        1,',
        '        2.0,',
        '        {}',
        '    ],',
        '    "c": [],',
        '    "d": {',
        '        "y": true,',
        '        "z": null',
        '    }',
        '}',
      ].join('\n'),
    );
  });

  it('writes whole plain numbers as ints and fractions as floats', () => {
    expect(pyJsonDumps([3, 0.5, new PyFloat(-0)])).toBe('[\n    3,\n    0.5,\n    -0.0\n]');
  });
});
