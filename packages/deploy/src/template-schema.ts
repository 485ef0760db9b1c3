import { loadAwsServiceSpec } from '@aws-cdk/aws-service-spec';
import type { Property, PropertyType, SpecDatabase, TypeDefinition } from '@aws-cdk/service-spec-types';

/**
 * CloudFormation templates checked against AWS's own resource schemas (the CloudFormation registry, as
 * `@aws-cdk/aws-service-spec` carries it): resource types that exist, no unknown or missing properties,
 * values of the right type, attributes that `Fn::GetAtt` can read. An intrinsic function stands for a
 * value of any type: what it resolves to is known only at deployment.
 */

type Json = unknown;

const RESOURCE_KEYS = new Set([
  'Type',
  'Properties',
  'DependsOn',
  'Condition',
  'DeletionPolicy',
  'UpdateReplacePolicy',
  'UpdatePolicy',
  'CreationPolicy',
  'Metadata',
]);

let database: Promise<SpecDatabase> | undefined;
/** The registry's schemas, read once (a few seconds). */
export const cloudFormationSpec = () => {
  database ??= loadAwsServiceSpec();
  return database;
};

const isObject = (value: Json): value is Record<string, Json> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function isIntrinsic(value: Json): boolean {
  if (!isObject(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && (keys[0] === 'Ref' || keys[0] === 'Condition' || String(keys[0]).startsWith('Fn::'));
}

/** Problems with one template: each a line naming the resource and the property path. */
// biome-ignore lint/complexity/noExcessiveLinesPerFunction: not yet split by check (#32 item 7)
export async function templateProblems(template: Record<string, Json>): Promise<string[]> {
  const spec = await cloudFormationSpec();
  const problems: string[] = [];
  const resources = (isObject(template.Resources) ? template.Resources : {}) as Record<string, Json>;
  const typeOf = new Map<string, string>();
  for (const [id, resource] of Object.entries(resources)) {
    if (isObject(resource)) typeOf.set(id, String(resource.Type));
  }

  const checkType = (value: Json, type: PropertyType, path: string): string[] => {
    if (isIntrinsic(value)) return [];
    switch (type.type) {
      case 'string':
      case 'date-time':
        if (typeof value !== 'string' && typeof value !== 'number') return [`${path}: must be a string`];
        if (type.type === 'string' && type.allowedValues?.length && !type.allowedValues.includes(String(value)))
          return [`${path}: ${JSON.stringify(value)} is not one of ${type.allowedValues.join(', ')}`];
        return [];
      case 'number':
      case 'integer':
        if (typeof value === 'number' || (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(+value)))
          return type.type === 'integer' && !Number.isInteger(Number(value)) ? [`${path}: must be an integer`] : [];
        return [`${path}: must be a number`];
      case 'boolean':
        return typeof value === 'boolean' || value === 'true' || value === 'false'
          ? []
          : [`${path}: must be a boolean`];
      case 'json':
        return [];
      case 'null':
        return value === null ? [] : [`${path}: must be null`];
      case 'tag':
        return isObject(value) && 'Key' in value && 'Value' in value ? [] : [`${path}: must be a tag (Key, Value)`];
      case 'array':
        if (!Array.isArray(value)) return [`${path}: must be a list`];
        return value.flatMap((element, i) => checkType(element, type.element, `${path}[${i}]`));
      case 'map':
        if (!isObject(value)) return [`${path}: must be a map`];
        return Object.entries(value).flatMap(([key, element]) => checkType(element, type.element, `${path}.${key}`));
      case 'union': {
        const each = type.types.map((t) => checkType(value, t, path));
        return each.some((found) => found.length === 0) ? [] : (each[0] ?? []);
      }
      case 'ref': {
        const definition = spec.get('typeDefinition', type.reference.$ref) as TypeDefinition;
        if (!isObject(value)) return [`${path}: must be an object (${definition.name})`];
        return checkProperties(value, definition.properties, path);
      }
    }
  };

  const checkProperty = (value: Json, property: Property, path: string) => {
    const types = [property.type, ...(property.previousTypes ?? [])];
    const each = types.map((t) => checkType(value, t, path));
    return each.some((found) => found.length === 0) ? [] : (each[0] ?? []);
  };

  const checkProperties = (value: Record<string, Json>, properties: Record<string, Property>, path: string) => [
    ...Object.entries(value).flatMap(([key, inner]) => {
      const property = properties[key];
      return property ? checkProperty(inner, property, `${path}.${key}`) : [`${path}.${key}: unknown property`];
    }),
    ...Object.entries(properties)
      .filter(([key, property]) => property.required && !(key in value))
      .map(([key]) => `${path}.${key}: required`),
  ];

  for (const [id, resource] of Object.entries(resources)) {
    if (!isObject(resource)) {
      problems.push(`${id}: not a resource`);
      continue;
    }
    for (const key of Object.keys(resource)) if (!RESOURCE_KEYS.has(key)) problems.push(`${id}.${key}: unknown key`);
    const type = String(resource.Type);
    if (type.startsWith('Custom::') || type === 'AWS::CloudFormation::CustomResource') continue;
    const [definition] = spec.lookup('resource', 'cloudFormationType', 'equals', type);
    if (!definition) {
      problems.push(`${id}: no resource type ${type}`);
      continue;
    }
    const properties = resource.Properties ?? {};
    if (!isObject(properties)) problems.push(`${id}.Properties: must be an object`);
    else problems.push(...checkProperties(properties, definition.properties, `${id}.Properties`));
  }

  // Every Fn::GetAtt names a resource of the template and an attribute its type has.
  const walk = (value: Json, where: string): void => {
    if (Array.isArray(value)) {
      for (const [i, v] of value.entries()) walk(v, `${where}[${i}]`);
    } else if (isObject(value)) {
      const target = value['Fn::GetAtt'];
      if (Array.isArray(target) && typeof target[0] === 'string' && typeof target[1] === 'string') {
        const [logical, attribute] = target as [string, string];
        const type = typeOf.get(logical);
        const [definition] = type ? spec.lookup('resource', 'cloudFormationType', 'equals', type) : [];
        if (!type) problems.push(`${where}: Fn::GetAtt names no resource ${logical}`);
        else if (definition && !(attribute in definition.attributes))
          problems.push(`${where}: ${type} has no attribute ${attribute}`);
      }
      for (const [key, inner] of Object.entries(value)) walk(inner, `${where}.${key}`);
    }
  };
  walk(template.Resources, 'Resources');
  walk(template.Outputs, 'Outputs');
  return problems;
}
