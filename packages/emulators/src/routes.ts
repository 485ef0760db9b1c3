import type { Call } from './call.js';
import { listSubmissions, phaseDetail, updatePartiallyEvaluated, updateSubmission } from './host-api.js';
import { getSubmission, resumeSubmission, submit, updateSubmissionMeta } from './participant-api.js';
import { queueProxy } from './queue-proxy.js';

/** An authenticated API route: the methods it takes, its path, and its view. */
export interface Route {
  readonly methods: readonly string[];
  readonly path: RegExp;
  readonly view: (call: Call) => unknown;
}

/** EvalAI's URL patterns that Pitwall and participants use; anything else is DRF's 404. */
export const ROUTES: readonly Route[] = [
  { methods: ['GET'], path: /^\/api\/jobs\/submission\/(\d+)$/, view: getSubmission },
  { methods: ['GET'], path: /^\/api\/challenges\/challenge\/(\d+)\/challenge_phase\/(\d+)$/, view: phaseDetail },
  { methods: ['GET', 'POST'], path: /^\/api\/jobs\/(challenge\/)?queues\/([^/]+)\/$/, view: queueProxy },
  { methods: ['PATCH', 'PUT'], path: /^\/api\/jobs\/challenge\/(\d+)\/update_submission\/$/, view: updateSubmission },
  {
    methods: ['PATCH', 'PUT'],
    path: /^\/api\/jobs\/challenges\/(\d+)\/update_partially_evaluated_submission\/$/,
    view: updatePartiallyEvaluated,
  },
  { methods: ['GET'], path: /^\/api\/jobs\/challenge\/(\d+)\/submission\/$/, view: listSubmissions },
  { methods: ['POST'], path: /^\/api\/jobs\/challenge\/(\d+)\/challenge_phase\/(\d+)\/submission\/$/, view: submit },
  { methods: ['POST'], path: /^\/api\/jobs\/submissions\/(\d+)\/resume\/$/, view: resumeSubmission },
  {
    methods: ['PATCH'],
    path: /^\/api\/jobs\/challenges\/(\d+)\/submissions\/(\d+)\/update_submission_meta\/$/,
    view: updateSubmissionMeta,
  },
];

/** The route a request takes, with the path's captured groups. */
export function routeOf(method: string, path: string): { route: Route; params: string[] } | undefined {
  for (const route of ROUTES) {
    const match = route.path.exec(path);
    if (match && route.methods.includes(method)) return { route, params: match.slice(1) };
  }
  return undefined;
}
