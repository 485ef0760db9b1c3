import type { IncomingMessage } from 'node:http';

/** What EvalAI would answer: a status, a body and headers. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(`EvalAI would answer ${status}: ${JSON.stringify(body)}`);
  }
}

/** What Django answers (DEBUG off) for an exception a view did not catch. */
export const SERVER_ERROR_PAGE =
  '<!doctype html>\n<html lang="en">\n<head>\n  <title>Server Error (500)</title>\n</head>\n<body>\n  <h1>Server Error (500)</h1><p></p>\n</body>\n</html>\n';
/** The marker of an uncaught exception in a view: answered with SERVER_ERROR_PAGE. */
export const UNCAUGHT = Symbol('uncaught');
export const serverError = (why: string) => new HttpError(500, UNCAUGHT, { 'X-Emulator-Why': why });

/** A request's body as Django REST framework parses it: JSON, or a form. */
export async function readBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return {};
  const type = request.headers['content-type'] ?? '';
  if (type.includes('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(text));
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, { detail: 'JSON parse error' });
  }
}

/** A body's fields; anything but an object has none. */
export function fields(body: unknown): Record<string, unknown> {
  return body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
}
