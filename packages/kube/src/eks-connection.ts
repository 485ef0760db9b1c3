import { Sha256 } from '@aws-crypto/sha256-js';
import { DescribeClusterCommand, type EKSClient } from '@aws-sdk/client-eks';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';

/** Where the Kubernetes API is and how to authenticate to it. */
export interface KubeConnection {
  readonly server: string;
  /** Base64 PEM of the cluster CA. */
  readonly caData?: string;
  readonly token: string;
  /** Only for a local plain-HTTP server in tests: the client refuses http:// otherwise. */
  readonly skipTLSVerify?: boolean;
}

/** EKS accepts a presigned STS URL as a bearer token for 15 minutes; Pitwall renews it sooner. */
const TOKEN_LIFETIME_MS = 14 * 60 * 1000;
const RENEW_BEFORE_MS = 60 * 1000;

/**
 * What `aws eks get-token` does, without the CLI: SigV4-presign STS GetCallerIdentity with the
 * `x-k8s-aws-id` header naming the cluster, and wrap the URL as `k8s-aws-v1.<base64url>`.
 */
export async function eksToken(options: {
  clusterName: string;
  region: string;
  credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  now?: Date;
}): Promise<{ token: string; expiresAt: Date }> {
  const now = options.now ?? new Date();
  const hostname = `sts.${options.region}.amazonaws.com`;
  const signer = new SignatureV4({
    credentials: options.credentials,
    region: options.region,
    service: 'sts',
    sha256: Sha256,
  });
  const presigned = await signer.presign(
    new HttpRequest({
      method: 'GET',
      protocol: 'https:',
      hostname,
      path: '/',
      query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
      headers: { host: hostname, 'x-k8s-aws-id': options.clusterName },
    }),
    { expiresIn: 60, signingDate: now },
  );
  const query = Object.entries(presigned.query ?? {})
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`)
    .join('&');
  const url = `https://${hostname}/?${query}`;
  return {
    token: `k8s-aws-v1.${Buffer.from(url).toString('base64url')}`,
    expiresAt: new Date(now.getTime() + TOKEN_LIFETIME_MS),
  };
}

/** The EKS cluster's endpoint and CA (asked once) and a token renewed shortly before it expires. */
export class EksConnection {
  private cluster: Promise<{ server: string; caData: string }> | undefined;
  private token: { token: string; expiresAt: Date } | undefined;

  constructor(
    private readonly eks: EKSClient,
    private readonly clusterName: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async get(): Promise<KubeConnection> {
    this.cluster ??= this.describe().catch((error: unknown) => {
      this.cluster = undefined;
      throw error;
    });
    const { server, caData } = await this.cluster;
    if (!this.token || this.token.expiresAt.getTime() - RENEW_BEFORE_MS <= this.now().getTime()) {
      this.token = await eksToken({
        clusterName: this.clusterName,
        region: await this.eks.config.region(),
        credentials: this.eks.config.credentials,
        now: this.now(),
      });
    }
    return { server, caData, token: this.token.token };
  }

  private async describe(): Promise<{ server: string; caData: string }> {
    const { cluster } = await this.eks.send(new DescribeClusterCommand({ name: this.clusterName }));
    const server = cluster?.endpoint;
    const caData = cluster?.certificateAuthority?.data;
    if (!server || !caData)
      throw new Error(`EKS cluster ${this.clusterName} has no endpoint or CA yet (status ${cluster?.status})`);
    return { server, caData };
  }
}
