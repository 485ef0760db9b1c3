import { parse, type Tags } from 'yaml';

// CloudFormation's short forms, read as their long forms (`!Ref X` → { Ref: X }, `!Sub s` → { 'Fn::Sub': s }).
const FUNCTIONS = ['Ref', 'Sub', 'GetAtt', 'Join', 'Select', 'Split', 'If', 'Equals', 'Not', 'And', 'Or', 'FindInMap'];
const tags: Tags = FUNCTIONS.flatMap((name) => {
  const key = name === 'Ref' ? 'Ref' : `Fn::${name}`;
  return [
    { tag: `!${name}`, resolve: (value: string) => ({ [key]: value }) },
    { tag: `!${name}`, collection: 'seq' as const, resolve: (seq: { toJSON(): unknown }) => ({ [key]: seq.toJSON() }) },
  ];
});

/** A CloudFormation template written in YAML, as CloudFormation reads it. */
export function parseCloudFormationYaml(text: string): Record<string, unknown> {
  return parse(text, { customTags: tags }) as Record<string, unknown>;
}
