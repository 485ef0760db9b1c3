import { fileURLToPath } from 'node:url';
import { describe, it } from '@jest/globals';
import { expectPythonTestsPass } from '../support/python-tests.js';

const referee = fileURLToPath(new URL('../../cluster/images/evaluator/referee/', import.meta.url));

describe('the referee channel (cluster/images/evaluator/referee)', () => {
  it('carries a whole run for a well-behaved agent and gives hostile ones nothing (its Python tests)', () => {
    expectPythonTestsPass(referee, 'test', 10);
  }, 90_000);
});
