/**
 * One place where AWS errors are classified, by the SDK's error name and its
 * `$retryable` / `$fault` markers, never by message text.
 */
import { ALREADY_EXISTS, OWNED_BY_ANOTHER } from '../../contract/failures.js';

/** What a failed call means for the reconcile loop. */
export const ErrorClass = {
  /** The spec (or the account) must change; retrying the same call cannot help. */
  Terminal: 'Terminal',
  /** Throttling, 5xx, network: the same call may succeed later. */
  Retryable: 'Retryable',
  /** The thing asked about does not exist. */
  NotFound: 'NotFound',
} as const;
export type ErrorClass = (typeof ErrorClass)[keyof typeof ErrorClass];

/**
 * Error name of a spec the schema should have refused (neither vpcID nor
 * vpcRef, say): terminal for every kind, since only a new spec can fix it.
 */
export const INVALID_SPEC = 'InvalidSpec';

export { ALREADY_EXISTS, OWNED_BY_ANOTHER };

/** Error codes a handler declares as data, overriding the defaults below. */
export interface ErrorCodes {
  terminal?: readonly string[];
  retryable?: readonly string[];
  notFound?: readonly string[];
}

const NOT_FOUND = new Set([
  'NotFound',
  'NoSuchBucket',
  'NoSuchKey',
  'NoSuchEntity',
  'ResourceNotFoundException',
  'AWS.SimpleQueueService.NonExistentQueue',
  'QueueDoesNotExist',
]);

const THROTTLING = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'SlowDown',
  'ProvisionedThroughputExceededException',
  'BandwidthLimitExceeded',
  'EC2ThrottledException',
  'PriorRequestNotComplete',
]);

/** Client-side (4xx) errors that are about timing, not about the request. */
const TRANSIENT_CLIENT = new Set([
  'OperationAborted',
  'RequestTimeout',
  'RequestTimeoutException',
  'IDPCommunicationError',
  'AWS.SimpleQueueService.QueueDeletedRecently',
  'QueueDeletedRecently',
]);

/** Node network error codes: the request may never have reached AWS. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
]);

const NETWORK_NAMES = new Set(['TimeoutError', 'AbortError', 'NetworkingError']);

/** Node codes of a request that found nothing answering at all: no route, no name, no listener, no reply. */
const NO_ANSWER_CODES = new Set(['ECONNREFUSED', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

interface ErrorShape {
  name?: unknown;
  code?: unknown;
  $fault?: unknown;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

/** The AWS error name (`NoSuchBucket`, `ThrottlingException`, …) or the Node error code. */
export function errorName(error: unknown): string {
  if (typeof error !== 'object' || error === null) return 'Error';
  const shape = error as ErrorShape;
  if (typeof shape.name === 'string' && shape.name !== 'Error') return shape.name;
  if (typeof shape.code === 'string') return shape.code;
  return 'Error';
}

/** True for an answer that says "slow down" (by name, the SDK's throttling marker, or 429): counted apart in the AWS call metrics. */
export function isThrottling(error: unknown): boolean {
  if (THROTTLING.has(errorName(error))) return true;
  if (typeof error !== 'object' || error === null) return false;
  const shape = error as ErrorShape;
  const retryable = shape.$retryable as { throttling?: unknown } | undefined;
  return retryable?.throttling === true || shape.$metadata?.httpStatusCode === 429;
}

/** Classifies an error thrown by an AWS SDK v3 call. */
export function classifyAwsError(error: unknown, codes: ErrorCodes = {}): ErrorClass {
  const name = errorName(error);
  if (codes.notFound?.includes(name)) return ErrorClass.NotFound;
  if (codes.retryable?.includes(name)) return ErrorClass.Retryable;
  if (codes.terminal?.includes(name)) return ErrorClass.Terminal;
  if (name === INVALID_SPEC || name === ALREADY_EXISTS || name === OWNED_BY_ANOTHER) return ErrorClass.Terminal;
  if (NOT_FOUND.has(name)) return ErrorClass.NotFound;
  if (THROTTLING.has(name) || TRANSIENT_CLIENT.has(name)) return ErrorClass.Retryable;
  if (typeof error !== 'object' || error === null) return ErrorClass.Retryable;
  const shape = error as ErrorShape;
  if (shape.$retryable) return ErrorClass.Retryable;
  if (shape.$fault === 'server') return ErrorClass.Retryable;
  const status = shape.$metadata?.httpStatusCode;
  if (status === 404) return ErrorClass.NotFound;
  if (status === 429 || (typeof status === 'number' && status >= 500)) return ErrorClass.Retryable;
  if (shape.$fault === 'client') return ErrorClass.Terminal;
  if (NETWORK_NAMES.has(name) || (typeof shape.code === 'string' && NETWORK_CODES.has(shape.code))) {
    return ErrorClass.Retryable;
  }
  // An error with no AWS markers never got an answer from AWS (DNS, sockets,
  // a crashed endpoint): retrying is the safe default, and Temporal's backoff
  // keeps it from becoming a storm.
  return ErrorClass.Retryable;
}

/**
 * True when the call got no answer from AWS at all: a refused or reset
 * connection, a name that does not resolve, a request that timed out.
 * Reported as `Unreachable`, naming the endpoint, rather than as whatever
 * the socket library called it.
 */
export function isUnreachable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const shape = error as ErrorShape;
  if (shape.$metadata?.httpStatusCode !== undefined) return false;
  // A connection that was reset or broken had reached something that
  // answers: the SDK names those TimeoutError too, but they are ordinary
  // transient faults for the activity to retry.
  if (typeof shape.code === 'string') return NO_ANSWER_CODES.has(shape.code);
  return errorName(error) === 'TimeoutError';
}

/**
 * True when AWS (or something posing as it) answered, but not in a form the
 * SDK could parse: the SDK's deserializer attaches the raw `$response` to
 * such an error, which, unlike every modelled AWS error, has no `$fault`.
 */
export function isUnreadableAnswer(error: unknown): boolean {
  return typeof error === 'object' && error !== null && '$response' in error && !('$fault' in error);
}

/** True when `error` is the AWS "not found" for this handler. */
export function isNotFound(error: unknown, codes: ErrorCodes = {}): boolean {
  return classifyAwsError(error, codes) === ErrorClass.NotFound;
}

/** The human part of an AWS error, without stack or request metadata. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error && error.message) return error.message;
  return String(error);
}

/** The call's answer, or undefined when AWS says the thing it acts on is not there (per `codes`). */
export async function unlessNotFound<T>(call: Promise<T>, codes: ErrorCodes = {}): Promise<T | undefined> {
  try {
    return await call;
  } catch (error) {
    if (isNotFound(error, codes)) return undefined;
    throw error;
  }
}
