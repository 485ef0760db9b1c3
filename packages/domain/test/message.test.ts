import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { InvalidMessageError, MAX_MESSAGE_BYTES, parseSubmissionMessage } from '../src/index.js';

function fieldOf(body: unknown): string {
  try {
    parseSubmissionMessage(body);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidMessageError);
    return (error as InvalidMessageError).field;
  }
  throw new Error('expected the message to be rejected');
}

const valid = { challenge_pk: 203, phase_pk: 527, submission_pk: 1351 };

describe('parseSubmissionMessage', () => {
  it('reads the body EvalAI sends for a Docker submission (string challenge and phase pks)', () => {
    const body = JSON.stringify({
      submitted_image_uri: '123.dkr.ecr.us-east-1.amazonaws.com/cartpole-challenge-203-participant-team-265:bb55',
      submission_pk: 1351,
      phase_pk: '527',
      challenge_pk: '203',
      is_static_dataset_code_upload_submission: false,
    });
    expect(parseSubmissionMessage(body)).toEqual({
      challengePk: 203,
      phasePk: 527,
      submissionPk: 1351,
      submittedImageUri: '123.dkr.ecr.us-east-1.amazonaws.com/cartpole-challenge-203-participant-team-265:bb55',
      isStaticDatasetCodeUploadSubmission: false,
      extra: {},
    });
  });

  it('accepts the minimal message without image or flag', () => {
    const message = parseSubmissionMessage({ submission_pk: '7', phase_pk: 2, challenge_pk: 1 });
    expect(message).toEqual({ challengePk: 1, phasePk: 2, submissionPk: 7, extra: {} });
    expect('submittedImageUri' in message).toBe(false);
  });

  it('keeps unknown keys aside without acting on them', () => {
    const message = parseSubmissionMessage({ ...valid, submission_meta: { submission_time_limit: 10 } });
    expect(message.extra).toEqual({ submission_meta: { submission_time_limit: 10 } });
  });

  it.each([
    ['missing submission_pk', { challenge_pk: 1, phase_pk: 2 }, 'submission_pk'],
    ['missing challenge_pk', { phase_pk: 2, submission_pk: 3 }, 'challenge_pk'],
    ['negative phase_pk', { ...valid, phase_pk: -4 }, 'phase_pk'],
    ['zero submission_pk', { ...valid, submission_pk: 0 }, 'submission_pk'],
    ['fractional submission_pk', { ...valid, submission_pk: 1.5 }, 'submission_pk'],
    ['non-numeric challenge_pk', { ...valid, challenge_pk: '12a' }, 'challenge_pk'],
    ['signed string pk', { ...valid, challenge_pk: '+12' }, 'challenge_pk'],
    ['empty string pk', { ...valid, phase_pk: '' }, 'phase_pk'],
    ['pk beyond safe integers', { ...valid, submission_pk: 2 ** 60 }, 'submission_pk'],
    ['boolean pk', { ...valid, submission_pk: true }, 'submission_pk'],
    ['null pk', { ...valid, submission_pk: null }, 'submission_pk'],
    ['numeric image uri', { ...valid, submitted_image_uri: 42 }, 'submitted_image_uri'],
    ['blank image uri', { ...valid, submitted_image_uri: '   ' }, 'submitted_image_uri'],
    ['huge image uri', { ...valid, submitted_image_uri: 'x'.repeat(600) }, 'submitted_image_uri'],
    [
      'string flag',
      { ...valid, is_static_dataset_code_upload_submission: 'false' },
      'is_static_dataset_code_upload_submission',
    ],
    ['array body', [valid], '(body)'],
    ['null body', null, '(body)'],
    ['number body', 5, '(body)'],
  ])('rejects %s, naming the field', (_case, body, field) => {
    expect(fieldOf(body)).toBe(field);
  });

  it('rejects text that is not JSON', () => {
    expect(fieldOf('{"challenge_pk": 1,')).toBe('(body)');
    expect(() => parseSubmissionMessage('not json')).toThrow('invalid submission message: (body): is not valid JSON');
  });

  it('rejects oversized bodies before parsing them', () => {
    const body = JSON.stringify({ ...valid, padding: 'x'.repeat(MAX_MESSAGE_BYTES) });
    expect(() => parseSubmissionMessage(body)).toThrow(/more than the 16384-byte limit/);
    expect(fieldOf({ ...valid, padding: 'x'.repeat(MAX_MESSAGE_BYTES) })).toBe('(body)');
  });

  it('says which field is missing in words a host can act on', () => {
    expect(() => parseSubmissionMessage({ challenge_pk: 1, phase_pk: 2 })).toThrow(
      'invalid submission message: submission_pk: is required',
    );
  });

  it('parses any positive safe integer given as a number or a digit string (property)', () => {
    const pk = fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER });
    const asEvalAiSends = pk.chain((n) => fc.constantFrom<number | string>(n, String(n)));
    fc.assert(
      fc.property(asEvalAiSends, asEvalAiSends, asEvalAiSends, (c, p, s) => {
        const message = parseSubmissionMessage(JSON.stringify({ challenge_pk: c, phase_pk: p, submission_pk: s }));
        expect(message).toMatchObject({ challengePk: Number(c), phasePk: Number(p), submissionPk: Number(s) });
      }),
    );
  });

  it('either parses or throws InvalidMessageError for any JSON value (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        try {
          const message = parseSubmissionMessage(JSON.stringify(value));
          expect(Number.isSafeInteger(message.submissionPk) && message.submissionPk > 0).toBe(true);
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidMessageError);
        }
      }),
    );
  });

  it('rejects any pk that is not a positive integer (property)', () => {
    const bad = fc.oneof(
      fc.integer({ max: 0 }),
      fc.double({ noInteger: true }),
      fc.string().filter((s) => !/^[0-9]{1,16}$/.test(s) || Number(s) < 1),
      fc.boolean(),
      fc.constant(null),
    );
    fc.assert(
      fc.property(bad, (pk) => {
        expect(fieldOf({ ...valid, phase_pk: pk })).toBe('phase_pk');
      }),
    );
  });
});
