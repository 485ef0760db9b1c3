import { randomUUID } from 'node:crypto';
import type { Call } from './call.js';
import { HttpError, serverError } from './http-error.js';

const QUEUE_NOT_A_HOST = { error: 'Sorry, you are not authorized to access this resource' };
/** SQS's default visibility timeout, which EvalAI's queue keeps. */
const VISIBILITY_MS = 30_000;

/** EvalAI's queue proxy: GET …/challenge/queues/<name>/ receives one message, POST …/queues/<name>/ deletes. */
export function queueProxy(call: Call) {
  const { challenge, user, method, params } = call;
  const [receive, name = ''] = params;
  if (name !== challenge.options.queueName) {
    throw new HttpError(400, { error: `Challenge with queue name ${name} does not exist${receive ? '' : 's'}` });
  }
  if (method === 'POST' && !receive) return deleteQueued(call, name);
  if (!user.host) throw new HttpError(401, QUEUE_NOT_A_HOST);
  if (method !== 'GET' || !receive) throw new HttpError(405, { detail: `Method "${method}" not allowed.` });
  const message = challenge.queued.find((m) => m.visibleAt <= challenge.now());
  if (!message) return { body: null, receipt_handle: null };
  message.handle = randomUUID();
  challenge.handedOut.add(message.handle);
  message.visibleAt = challenge.now() + VISIBILITY_MS;
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(message.body);
  } catch {
    // EvalAI hands out what it cannot parse as null
  }
  return { body: parsed, receipt_handle: message.handle };
}

/**
 * delete_submission_message_from_queue, in its order: a body without receipt_handle is a KeyError (Django's
 * 500 page), an empty one 400, a user not a host 401; SQS refuses a handle it never gave (a ClientError the
 * view answers with a Response it cannot render: the 500 page again), and takes an old one without deleting.
 */
function deleteQueued({ challenge, user, body }: Call, name: string) {
  if (body === null || typeof body !== 'object' || !('receipt_handle' in body)) throw serverError('KeyError');
  const handle = (body as { receipt_handle: unknown }).receipt_handle;
  if (!handle) throw new HttpError(400, { error: 'Please add message receipt handle in the body' });
  if (!user.host) throw new HttpError(401, QUEUE_NOT_A_HOST);
  if (typeof handle !== 'string' || !challenge.handedOut.has(handle)) throw serverError('ReceiptHandleIsInvalid');
  const at = challenge.queued.findIndex((m) => m.handle === handle);
  if (at >= 0) challenge.queued.splice(at, 1);
  return { success: `Message deleted successfully from the queue: ${name}` };
}
