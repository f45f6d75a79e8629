/**
 * Failure types that activities raise and the workflow tells apart. They
 * travel as Temporal ApplicationFailure types, so they are plain strings.
 */
export const FailureType = {
  /** The spec (or the account) must change; not retried until it does. */
  Terminal: 'Terminal',
  /** The AWSProvider is missing or not Ready; the resource waits for it. */
  ProviderNotReady: 'ProviderNotReady',
  /** A custom resource this spec refers to (vpcRef, say) is missing or not Ready; the resource waits for it. */
  DependencyNotReady: 'DependencyNotReady',
  /** A transient AWS or network failure; Temporal retries it with backoff. */
  Retryable: 'Retryable',
} as const;
export type FailureType = (typeof FailureType)[keyof typeof FailureType];

/** Details attached to a Terminal or ProviderNotReady failure, for conditions and Events. */
export interface FailureDetails {
  /** CamelCase reason for the Ready condition, e.g. the AWS error name. */
  reason: string;
  /**
   * Nothing the watcher sees changes when this is fixed (a Secret created,
   * say), so no signal will come: the workflow looks again within its
   * shortest backoff cap instead of the resync interval.
   */
  unwatched?: boolean;
  /**
   * An AWS ID the spec names literally (`vpcID: vpc-0…`) does not exist. It
   * may be made later outside the operator, which no signal announces, and
   * asking AWS again soon cannot help: looked at again with a backoff that
   * grows to half an hour.
   */
  missingInAws?: boolean;
}

/**
 * A create met an AWS resource the operator did not make: terminal until
 * the custom resource adopts it (adoption annotation) or names another.
 */
export const ALREADY_EXISTS = 'AlreadyExists';

/** The AWS resource belongs to another custom resource or cluster; terminal. */
export const OWNED_BY_ANOTHER = 'OwnedByAnotherResource';
