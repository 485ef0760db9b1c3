import { createS3Client, S3ArtifactStore } from '@pitwall/adapters';
import type { ArtifactStore } from '@pitwall/domain';
import type { AdapterFactory } from './control-plane.js';

/** The submission files in the stage's S3 bucket. */
export const s3ArtifactStore: AdapterFactory<ArtifactStore> = ({ config }) =>
  new S3ArtifactStore(createS3Client({ ...config.aws, endpoint: config.endpoints.s3 }), config.bucket);
