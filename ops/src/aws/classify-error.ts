/**
 * Turns what the AWS SDK throws into one-line errors a person can act on: missing credentials,
 * missing region, rejected credentials, access denied, throttling, network trouble.
 */
import { ExitCode, OpsError, UsageProblem, oneLine } from '../errors';

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  Code?: unknown;
}

function errorName(error: unknown): string {
  if (!error || typeof error !== 'object') return '';
  const e = error as ErrorLike;
  const name = typeof e.name === 'string' ? e.name : '';
  if (name && name !== 'Error') return name;
  if (typeof e.Code === 'string') return e.Code;
  if (typeof e.code === 'string') return e.code;
  return name;
}

function errorMessage(error: unknown): string {
  if (error && typeof error === 'object' && typeof (error as ErrorLike).message === 'string') {
    return oneLine((error as ErrorLike).message as string);
  }
  return oneLine(String(error));
}

const THROTTLING = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
]);
const ACCESS_DENIED = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'UnauthorizedOperation',
  'UnauthorizedAccess',
  'AuthorizationError',
  'NotAuthorized',
]);
const BAD_CREDENTIALS = new Set([
  'ExpiredToken',
  'ExpiredTokenException',
  'RequestExpired',
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'AuthFailure',
  'TokenRefreshRequired',
]);
const NETWORK = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'TimeoutError']);

export function isThrottling(error: unknown): boolean {
  return THROTTLING.has(errorName(error));
}

export function hasErrorName(error: unknown, ...names: string[]): boolean {
  return names.includes(errorName(error));
}

export interface ClassifyContext {
  /** The profile in use (--profile or AWS_PROFILE), named in credential errors. */
  readonly profile?: string;
}

/** A classified error, or undefined when the error is not one of the well-known AWS problems. */
export function classifyAwsError(error: unknown, context: ClassifyContext = {}): OpsError | undefined {
  if (error instanceof OpsError) return error;
  const name = errorName(error);
  const message = errorMessage(error);
  if (name === 'CredentialsProviderError' || /could not load credentials/i.test(message)) {
    return new OpsError(
      context.profile ? `no AWS credentials found for profile "${context.profile}"` : 'no AWS credentials found',
      context.profile
        ? `check that the profile exists in ~/.aws/config or ~/.aws/credentials (or run \`aws sso login --profile ${context.profile}\`)`
        : 'run `aws configure` or `aws sso login`, or set AWS_PROFILE (or pass --profile)',
    );
  }
  if (/region is missing/i.test(message)) {
    return new UsageProblem('no AWS region configured', 'pass --region, set AWS_REGION, or set a region in your AWS profile');
  }
  if (BAD_CREDENTIALS.has(name)) {
    return new OpsError(
      `AWS rejected the credentials (${name})`,
      'refresh them (e.g. `aws sso login`) or check AWS_PROFILE / --profile',
    );
  }
  if (ACCESS_DENIED.has(name)) {
    return new OpsError(
      `access denied: ${message}`,
      'grant the permission AWS names above; the permissions of each command (list, status, logs, health, cost, restore) are in ops/README.md',
    );
  }
  if (THROTTLING.has(name)) {
    return new OpsError(`AWS throttled the requests (${name})`, 'wait a moment and retry');
  }
  if (name === 'TimeoutError') {
    return new OpsError(
      'AWS did not answer in time (TimeoutError)',
      'check the network, proxy and region (GM_OPS_AWS_REQUEST_TIMEOUT_MS and GM_OPS_AWS_CONNECT_TIMEOUT_MS set the limits of each call, in milliseconds)',
    );
  }
  if (NETWORK.has(name) || /getaddrinfo|ECONNREFUSED|ETIMEDOUT|socket hang up/i.test(message)) {
    return new OpsError(`cannot reach AWS (${name || message})`, 'check the network, proxy and region', ExitCode.failure);
  }
  return undefined;
}

/** Every error, as an OpsError: unknown ones keep their message on one line, never a stack trace. */
export function toOpsError(error: unknown, context: ClassifyContext = {}): OpsError {
  const known = classifyAwsError(error, context);
  if (known) return known;
  const name = errorName(error);
  const label = name && name !== 'Error' ? `${name}: ` : '';
  return new OpsError(`unexpected error: ${label}${errorMessage(error)}`, 'set GM_OPS_DEBUG=1 to see the details');
}
