import { XMLParser } from 'fast-xml-parser';
import { RouteFileError } from '../errors.js';

/** One route of a CARLA route file, with its position in the file (the evaluator's order). */
export interface RouteInfo {
  readonly id: string;
  readonly town: string;
  /** Metres along the straight segments between waypoints, the length CARLA reports for the route. */
  readonly length: number;
  readonly position: number;
}

/** The public training file is 1.2 MB; a route file is host-supplied but still bounded. */
export const MAX_ROUTE_FILE_BYTES = 32 * 1024 * 1024;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseAttributeValue: false,
  processEntities: false,
  isArray: (name) => name === 'route' || name === 'position',
});

interface RawRoute {
  id?: unknown;
  town?: unknown;
  waypoints?: { position?: { x?: unknown; y?: unknown; z?: unknown }[] } | string;
}

/**
 * A challenge has a few route files, read for every submission, and parsing one is most of planning
 * (about 40 ms for the validation file): a process keeps the last few it parsed.
 */
const recentlyParsed = new Map<string, readonly RouteInfo[]>();
const KEEP_PARSED = 4;

/** Reads `<routes><route id town><waypoints><position x y z/>…` and measures each route. */
export function parseRouteFile(xml: string): readonly RouteInfo[] {
  const known = recentlyParsed.get(xml);
  if (known) return known;
  const routes = Object.freeze(readRouteFile(xml).map((route) => Object.freeze(route)));
  recentlyParsed.set(xml, routes);
  if (recentlyParsed.size > KEEP_PARSED) recentlyParsed.delete(recentlyParsed.keys().next().value as string);
  return routes;
}

function readRouteFile(xml: string): RouteInfo[] {
  if (Buffer.byteLength(xml, 'utf8') > MAX_ROUTE_FILE_BYTES) {
    throw new RouteFileError(`the route file is over ${MAX_ROUTE_FILE_BYTES} bytes`);
  }
  let document: { routes?: { route?: RawRoute[] } | string };
  try {
    document = parser.parse(xml, true);
  } catch (error) {
    throw new RouteFileError(`the route file is not valid XML: ${(error as Error).message}`, { cause: error });
  }
  const routes = typeof document.routes === 'object' ? (document.routes.route ?? []) : [];
  if (routes.length === 0) throw new RouteFileError('the route file has no <route> under <routes>');
  const seen = new Set<string>();
  return routes.map((route, position) => {
    const id = String(route.id ?? '');
    // Ids become RouteScenario_<id> and --routes-subset ranges, so they must be plain numbers.
    if (!/^[0-9]{1,9}$/.test(id)) throw new RouteFileError(`route #${position + 1} has id "${id}", not a number`);
    if (seen.has(id)) throw new RouteFileError(`route id ${id} appears twice`);
    seen.add(id);
    const points = typeof route.waypoints === 'object' ? (route.waypoints.position ?? []) : [];
    if (points.length < 2) throw new RouteFileError(`route ${id} has fewer than two waypoints`);
    return { id, town: String(route.town ?? ''), length: polylineLength(id, points), position };
  });
}

function polylineLength(id: string, points: readonly { x?: unknown; y?: unknown; z?: unknown }[]): number {
  let length = 0;
  let previous: [number, number, number] | undefined;
  for (const point of points) {
    const current: [number, number, number] = [
      coordinate(id, point.x),
      coordinate(id, point.y),
      coordinate(id, point.z),
    ];
    if (previous) length += Math.hypot(current[0] - previous[0], current[1] - previous[1], current[2] - previous[2]);
    previous = current;
  }
  return length;
}

function coordinate(id: string, raw: unknown): number {
  const value = raw === undefined ? 0 : Number(raw);
  if (!Number.isFinite(value)) throw new RouteFileError(`route ${id} has a waypoint coordinate "${String(raw)}"`);
  return value;
}
