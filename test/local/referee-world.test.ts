import { fileURLToPath } from 'node:url';
import { describe, it } from '@jest/globals';
import { expectPythonTestsPass } from '../support/python-tests.js';

const local = fileURLToPath(new URL('../../packages/local/', import.meta.url));

describe("the stand-in evaluator's kinematic world through the referee (packages/local/test/standin)", () => {
  it('scores what the agent drove, and a hostile agent behind the referee gains nothing (its Python tests)', () => {
    expectPythonTestsPass(local, 'test/standin', 7, 180_000);
  }, 200_000);
});
