import { z } from 'zod';
import { machineStageSchema, stageConfigSchema } from './stage-config.js';

/** A JSON Schema node, as zod writes it, as far as the reference reads it. */
interface SchemaNode {
  readonly type?: string | string[];
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly default?: unknown;
  readonly properties?: Record<string, SchemaNode>;
  readonly required?: readonly string[];
  readonly additionalProperties?: SchemaNode | boolean;
  readonly items?: SchemaNode;
  readonly anyOf?: readonly SchemaNode[];
  readonly minimum?: number;
  readonly maximum?: number;
}

interface Row {
  readonly key: string;
  readonly type: string;
  readonly required: 'yes' | 'one of' | '';
  readonly fallback: string;
  readonly unit: string;
}

/** A key's unit, from its name (and its parent's): the schemas name every quantity after its unit. */
function unitOf(key: string, parent: string): string {
  if (/Seconds/.test(key)) return 's';
  if (/Ms$/.test(key)) return 'ms';
  if (/Bytes$/.test(key)) return 'bytes';
  if (/PerMinute$/.test(key)) return 'per minute';
  if (/^(onDemand|spot)$/.test(key)) return 'USD per GPU-hour';
  if (/^gpuHours|Hours$/.test(key)) return 'GPU-hours';
  if (key === 'pidsLimit') return 'processes';
  if (key === 'cpu') return 'CPU quantity (`3`, `250m`)';
  if (/^(memory|ephemeralStorage)$/.test(key) || parent === 'scratchLimits') return 'byte quantity (`12Gi`)';
  return '';
}

const short = (value: unknown) => {
  const text = JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
};

function typeOf(node: SchemaNode): string {
  if (node.enum) return node.enum.map((v) => JSON.stringify(v)).join(' \\| ');
  if (node.const !== undefined) return JSON.stringify(node.const);
  if (node.anyOf) {
    // One of several objects: each named by its keys.
    return node.anyOf
      .map((v) => (v.properties ? `{${Object.keys(v.properties).join(', ')}}` : typeOf(v)))
      .join(' \\| ');
  }
  const type = Array.isArray(node.type) ? node.type.join(' \\| ') : (node.type ?? 'any');
  if (type === 'array') return `list of ${node.items ? typeOf(node.items) : 'any'}`;
  if (type === 'object' && !node.properties && typeof node.additionalProperties === 'object') return 'map';
  const range =
    node.minimum !== undefined || node.maximum !== undefined
      ? ` (${node.minimum ?? ''}…${node.maximum !== undefined && node.maximum < 2 ** 53 - 1 ? node.maximum : ''})`
      : '';
  return `${type}${range}`;
}

/** Every key under `node`, depth first, `<key>` standing for a map's keys and `[]` for a list's items. */
function rowsOf(node: SchemaNode, path: string, required: Row['required'], names: readonly string[]): Row[] {
  const [key = '', parent = ''] = [...names].reverse();
  const rows: Row[] = path
    ? [
        {
          key: path,
          type: typeOf(node),
          required,
          fallback: node.default === undefined ? '' : short(node.default),
          unit: unitOf(key, parent),
        },
      ]
    : [];
  const variants = node.anyOf ?? [node];
  for (const variant of variants) {
    for (const [name, child] of Object.entries(variant.properties ?? {})) {
      const given = variant.required?.includes(name) ? (node.anyOf ? 'one of' : 'yes') : '';
      rows.push(...rowsOf(child, path ? `${path}.${name}` : name, given, [...names, name]));
    }
    if (typeof variant.additionalProperties === 'object') {
      rows.push(...rowsOf(variant.additionalProperties, `${path}.<key>`, 'yes', [...names, '<key>']).slice(1));
    }
    if (variant.items?.properties) rows.push(...rowsOf(variant.items, `${path}[]`, 'yes', [...names, '[]']).slice(1));
  }
  return rows;
}

function table(schema: z.ZodType): string {
  const root = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as SchemaNode;
  const rows = rowsOf(root, '', 'yes', []);
  const lines = rows.map(
    (row) =>
      `| \`${row.key}\` | ${row.type} | ${row.required} | ${row.fallback ? `\`${row.fallback}\`` : ''} | ${row.unit} |`,
  );
  return ['| key | type | required | default | unit |', '| --- | --- | --- | --- | --- |', ...lines].join('\n');
}

/** Where the reference is kept, from the repository's root. */
export const STAGE_REFERENCE_FILE = 'docs/stage-reference.md';

/**
 * docs/stage-reference.md: every key of the two stage files, its type, whether it must be given, its default
 * and its unit, written from the schemas themselves (`pnpm stage:reference`), so that it cannot drift.
 */
export function stageReference(): string {
  return [
    '# Stage file reference',
    '',
    'Written by `pnpm stage:reference` from the schemas every stage file is checked against; a test keeps it',
    'current. Every object is strict: a key not listed here is an error. `<key>` stands for a key of your',
    "own (a phase's pk, a track's name, a node class); `[]` for each item of a list.",
    '',
    '## `stages/<stage>.yml`: a deployment on AWS',
    '',
    table(stageConfigSchema),
    '',
    '## A machine stage: `pitwall serve --stage <stage>`',
    '',
    table(machineStageSchema),
    '',
  ].join('\n');
}
