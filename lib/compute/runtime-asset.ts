import * as path from 'path';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';

/** The `docker/` folder: the single source of what runs on the host. */
export const RUNTIME_SOURCE_DIR = path.join(__dirname, '..', '..', 'docker');

/**
 * Ships `docker/` to the host as a zipped CDK asset, so user data stays small (well under 16 KB)
 * and a change to the runtime is a new asset hash, hence a new launch template version.
 */
export function runtimeAsset(scope: Construct, id: string): s3assets.Asset {
  return new s3assets.Asset(scope, id, {
    path: RUNTIME_SOURCE_DIR,
    exclude: ['.env', '*.local.env', '.data', 'README.md', '**/node_modules'],
  });
}
