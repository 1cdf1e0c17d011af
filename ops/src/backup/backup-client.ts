/**
 * The AWS Backup client of a command, built on first use from the same settings as the command's other clients
 * (their region and credentials providers, the bounds of ops/src/aws/clients.ts). Kept beside the code that uses
 * it so that `AwsClients` and the test fakes need no new member; one client per AwsClients.
 */
import type { BackupClient } from '@aws-sdk/client-backup';
import { callBounds, type AwsClients } from '../aws/clients';

const cache = new WeakMap<AwsClients, BackupClient>();

export function backupClient(clients: AwsClients, env: NodeJS.ProcessEnv = process.env): BackupClient {
  let client = cache.get(clients);
  if (!client) {
    const sdk = require('@aws-sdk/client-backup') as typeof import('@aws-sdk/client-backup');
    const { config } = clients.cloudFormation;
    const bounds = callBounds(env);
    client = new sdk.BackupClient({
      region: config.region,
      credentials: config.credentials,
      maxAttempts: bounds.maxAttempts,
      requestHandler: { connectionTimeout: bounds.connectionTimeout, requestTimeout: bounds.requestTimeout, throwOnRequestTimeout: true },
    });
    cache.set(clients, client);
  }
  return client;
}
