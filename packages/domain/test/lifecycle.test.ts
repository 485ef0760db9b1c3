import { describe, expect, it } from '@jest/globals';
import {
  allowedTransitions,
  canTransition,
  EVALAI_STATUSES,
  evalAiUpdateFor,
  IllegalTransitionError,
  isEligibleForEvaluation,
  isSubmissionStatus,
  isTerminal,
  SUBMISSION_STATUSES,
  transition,
} from '../src/index.js';

describe('submission lifecycle', () => {
  it('walks the normal path from received to finished', () => {
    let status = transition('received', 'queued');
    status = transition(status, 'running');
    expect(transition(status, 'finished')).toBe('finished');
  });

  it('lets every non-terminal status fail or be cancelled', () => {
    for (const status of SUBMISSION_STATUSES.filter((s) => !isTerminal(s))) {
      expect(canTransition(status, 'failed')).toBe(true);
      expect(canTransition(status, 'cancelled')).toBe(true);
    }
  });

  it('lets a failure follow a cancel that reached EvalAI first, and nothing else leave finished or cancelled', () => {
    expect(allowedTransitions('failed')).toEqual(['resuming', 'cancelled']);
    expect(allowedTransitions('finished')).toEqual([]);
    expect(allowedTransitions('cancelled')).toEqual([]);
  });

  it('treats exactly finished, failed and cancelled as terminal', () => {
    expect(SUBMISSION_STATUSES.filter(isTerminal)).toEqual(['finished', 'failed', 'cancelled']);
  });

  it('lets only a failed submission be resumed, as EvalAI does', () => {
    expect(SUBMISSION_STATUSES.filter((s) => canTransition(s, 'resuming'))).toEqual(['failed']);
    expect(transition(transition('failed', 'resuming'), 'queued')).toBe('queued');
  });

  it('never leaves finished or cancelled', () => {
    expect(allowedTransitions('finished')).toEqual([]);
    expect(allowedTransitions('cancelled')).toEqual([]);
  });

  it('throws a named error for an illegal transition', () => {
    expect(() => transition('finished', 'running')).toThrow(IllegalTransitionError);
    try {
      transition('cancelled', 'finished');
    } catch (error) {
      expect(error).toBeInstanceOf(IllegalTransitionError);
      expect((error as IllegalTransitionError).name).toBe('IllegalTransitionError');
      expect((error as Error).message).toBe('a submission cannot go from cancelled to finished');
    }
  });

  it('refuses to go backwards from running to queued or received', () => {
    expect(canTransition('running', 'queued')).toBe(false);
    expect(canTransition('running', 'received')).toBe(false);
  });

  it('recognises its own statuses only', () => {
    expect(isSubmissionStatus('running')).toBe(true);
    expect(isSubmissionStatus('RUNNING')).toBe(false);
    expect(isSubmissionStatus('partially_evaluated')).toBe(false);
    expect(isSubmissionStatus(3)).toBe(false);
  });
});

describe('mapping to EvalAI', () => {
  it('PATCHes only queued and running, and PUTs only finished, failed and cancelled', () => {
    const updates = SUBMISSION_STATUSES.map(evalAiUpdateFor).filter((u) => u !== undefined);
    expect(updates.filter((u) => u.method === 'PATCH').map((u) => u.status)).toEqual(['queued', 'running']);
    expect(updates.filter((u) => u.method === 'PUT').map((u) => u.status)).toEqual(['finished', 'failed', 'cancelled']);
  });

  it('writes nothing to EvalAI for internal statuses', () => {
    expect(evalAiUpdateFor('received')).toBeUndefined();
    expect(evalAiUpdateFor('resuming')).toBeUndefined();
  });

  it('maps every terminal status to a PUT', () => {
    for (const status of SUBMISSION_STATUSES.filter(isTerminal)) {
      expect(evalAiUpdateFor(status)?.method).toBe('PUT');
    }
  });

  it('evaluates only submitted and resuming submissions', () => {
    expect(EVALAI_STATUSES.filter(isEligibleForEvaluation)).toEqual(['submitted', 'resuming']);
  });
});
