import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { describe, expect, it } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';
import { EksConnection, eksToken } from '../src/index.js';

const credentials = { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret' };

function decode(token: string): URL {
  expect(token.startsWith('k8s-aws-v1.')).toBe(true);
  const encoded = token.slice('k8s-aws-v1.'.length);
  expect(encoded).toMatch(/^[A-Za-z0-9_-]+$/); // base64url without padding
  return new URL(Buffer.from(encoded, 'base64url').toString('utf8'));
}

describe('eksToken', () => {
  it('is a presigned STS GetCallerIdentity URL bound to the cluster name', async () => {
    const { token, expiresAt } = await eksToken({
      clusterName: 'pitwall-eval',
      region: 'us-west-2',
      credentials,
      now: new Date('2026-06-01T12:00:00Z'),
    });
    const url = decode(token);
    expect(url.origin).toBe('https://sts.us-west-2.amazonaws.com');
    expect(url.searchParams.get('Action')).toBe('GetCallerIdentity');
    expect(url.searchParams.get('Version')).toBe('2011-06-15');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('60');
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('host;x-k8s-aws-id');
    expect(url.searchParams.get('X-Amz-Credential')).toBe('AKIAEXAMPLE/20260601/us-west-2/sts/aws4_request');
    expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    expect(expiresAt.toISOString()).toBe('2026-06-01T12:14:00.000Z');
  });

  it('signs differently for another cluster', async () => {
    const now = new Date('2026-06-01T12:00:00Z');
    const a = await eksToken({ clusterName: 'a', region: 'us-west-2', credentials, now });
    const b = await eksToken({ clusterName: 'b', region: 'us-west-2', credentials, now });
    expect(decode(a.token).searchParams.get('X-Amz-Signature')).not.toBe(
      decode(b.token).searchParams.get('X-Amz-Signature'),
    );
  });
});

describe('EksConnection', () => {
  it('asks EKS for the endpoint and CA once and renews the token shortly before it expires', async () => {
    const eks = mockClient(EKSClient);
    eks.on(DescribeClusterCommand, { name: 'pitwall-eval' }).resolves({
      cluster: {
        endpoint: 'https://ABC.gr7.us-west-2.eks.amazonaws.com',
        certificateAuthority: { data: 'Q0EK' },
        status: 'ACTIVE',
      },
    });
    let now = Date.parse('2026-06-01T12:00:00Z');
    const connection = new EksConnection(
      new EKSClient({ region: 'us-west-2', credentials }),
      'pitwall-eval',
      () => new Date(now),
    );
    const first = await connection.get();
    expect(first).toMatchObject({ server: 'https://ABC.gr7.us-west-2.eks.amazonaws.com', caData: 'Q0EK' });
    now += 12 * 60 * 1000;
    expect((await connection.get()).token).toBe(first.token);
    now += 61 * 1000; // within a minute of the 14-minute lifetime
    expect((await connection.get()).token).not.toBe(first.token);
    expect(eks.commandCalls(DescribeClusterCommand)).toHaveLength(1);
  });

  it('says so when the cluster has no endpoint yet', async () => {
    mockClient(EKSClient)
      .on(DescribeClusterCommand)
      .resolves({ cluster: { status: 'CREATING' } });
    const connection = new EksConnection(new EKSClient({ region: 'us-west-2', credentials }), 'new-cluster');
    await expect(connection.get()).rejects.toThrow(
      'EKS cluster new-cluster has no endpoint or CA yet (status CREATING)',
    );
  });
});
