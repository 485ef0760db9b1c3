import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { parseCloudFormationYaml } from '../src/cloudformation-yaml.js';
import { templateProblems } from '../src/template-schema.js';

// biome-ignore lint/suspicious/noExplicitAny: templates and manifests are walked freely
type Doc = Record<string, any>;
const cluster = (file: string) => readFileSync(new URL(`../../../cluster/${file}`, import.meta.url), 'utf8');

const endpoints = parseCloudFormationYaml(cluster('endpoints.yaml')) as Doc;
const eksctl = parseYaml(cluster('cluster.yaml')) as Doc;
const manifests = parseAllDocuments(cluster('evaluations.yaml')).map((d) => d.toJS() as Doc);
const find = (kind: string, name: string) => manifests.find((d) => d.kind === kind && d.metadata?.name === name);

describe('cluster/endpoints.yaml (the only HTTPS the pods may reach)', () => {
  const resources = Object.values(endpoints.Resources as Record<string, Doc>);
  const subnets = Object.entries(endpoints.Resources as Record<string, Doc>).filter(
    ([, r]) => r.Type === 'AWS::EC2::Subnet',
  );
  const vpcEndpoints = resources.filter((r) => r.Type === 'AWS::EC2::VPCEndpoint');
  const service = (name: string) =>
    vpcEndpoints.find((e) => e.Properties.ServiceName['Fn::Sub'] === `com.amazonaws.\${AWS::Region}.${name}`)
      ?.Properties;
  const range = (cidr: string) => {
    const [base = '', bits = '32'] = cidr.split('/');
    const start = base.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
    return [start, start + 2 ** (32 - Number(bits)) - 1] as const;
  };

  it('matches CloudFormation’s own resource schemas', async () => {
    expect(await templateProblems(endpoints)).toEqual([]);
  }, 30_000);

  it('admits HTTPS from evaluation pods to the endpoint subnets and nowhere else', () => {
    const policy = find('NetworkPolicy', 'evaluation-pods');
    const https = ((policy?.spec.egress ?? []) as Doc[]).filter((rule) => rule.ports.some((p: Doc) => p.port === 443));
    const cidrs = https.flatMap((rule) => (rule.to as Doc[]).map((peer) => peer.ipBlock?.cidr));
    expect(cidrs.sort()).toEqual(subnets.map(([, s]) => s.Properties.CidrBlock).sort());
  });

  it('puts the endpoint subnets inside the cluster’s VPC, above the /19s eksctl carves for its six subnets', () => {
    const [vpcStart, vpcEnd] = range(eksctl.vpc.cidr);
    expect(endpoints.Parameters.VpcCidr.Default).toBe(eksctl.vpc.cidr);
    for (const [, subnet] of subnets) {
      const [start, end] = range(subnet.Properties.CidrBlock);
      expect(start).toBeGreaterThanOrEqual(vpcStart + 6 * 2 ** 13);
      expect(end).toBeLessThanOrEqual(vpcEnd);
    }
  });

  it('has an interface endpoint for S3, DynamoDB and STS in both subnets', () => {
    expect(vpcEndpoints).toHaveLength(3);
    for (const name of ['s3', 'dynamodb', 'sts']) {
      expect(service(name)?.VpcEndpointType).toBe('Interface');
      expect(service(name)?.SubnetIds).toEqual(subnets.map(([id]) => ({ Ref: id })));
    }
  });

  it('lets the S3 and DynamoDB endpoints reach only Pitwall’s submission objects and table', () => {
    const statements = (name: string) => service(name)?.PolicyDocument.Statement as Doc[];
    expect(statements('s3')).toEqual([
      expect.objectContaining({
        Action: ['s3:GetObject', 's3:PutObject'],
        // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's own substitution
        Resource: [{ 'Fn::Sub': 'arn:${AWS::Partition}:s3:::${Bucket}/submissions/*' }],
      }),
    ]);
    expect(statements('dynamodb')).toEqual([expect.objectContaining({ Action: ['dynamodb:PutItem'] })]);
    // Without private DNS only a client given their names (logcopy) goes through them.
    expect(service('s3')?.PrivateDnsEnabled).toBe(false);
    expect(service('dynamodb')?.PrivateDnsEnabled).toBe(false);
    expect(service('sts')?.PrivateDnsEnabled).toBe(true);
  });
});
