/**
 * An in-memory Kubernetes object and AWS resource behind the activity
 * contract, for workflow tests. It records every call so tests can assert
 * what the workflow did, not just where it ended.
 */
import { ApplicationFailure } from '@temporalio/common';
import type {
  DeleteOutcome,
  KubeEvent,
  LoadedResource,
  Observation,
  ReconcileActivities,
  ResourceStatus,
} from '../../contract/activities.js';
import { FailureType } from '../../contract/failures.js';

export interface FakeAws {
  exists: boolean;
  /** Differences AWS has from the spec (drift). */
  differences: string[];
  ready: boolean;
  /** Made outside the operator: carries none of its owner tags. */
  unmanaged?: boolean;
}

export class FakeWorld {
  resource: LoadedResource | null;
  aws: FakeAws = { exists: false, differences: [], ready: true };
  statuses: ResourceStatus[] = [];
  events: KubeEvent[] = [];
  calls: string[] = [];
  /** Failures to throw, per activity name, consumed in order. */
  failures = new Map<string, Error[]>();
  /** createResource answers with the new resource, as handlers whose create calls tell everything do. */
  createAnswers = false;
  /** The kind's create tags what it makes: observe creates when asked (AwsRequest.createIfAbsent). */
  createsTagged = false;
  /** Every observe request that asked to create on absence, whether or not it did. */
  createIfAbsentAsked = 0;

  constructor(resource: Partial<LoadedResource> = {}) {
    this.resource = {
      uid: 'uid-1',
      generation: 1,
      deleting: false,
      hasFinalizer: false,
      deletionPolicy: 'Delete',
      spec: { providerRef: { name: 'aws' }, bucketName: 'data' },
      management: { policy: 'Full', paused: false },
      ...resource,
    };
  }

  count(name: string): number {
    return this.calls.filter((call) => call === name).length;
  }

  get lastStatus(): ResourceStatus | undefined {
    return this.statuses.at(-1);
  }

  failNext(activity: string, ...errors: Error[]): void {
    this.failures.set(activity, [...(this.failures.get(activity) ?? []), ...errors]);
  }

  private enter(name: string): void {
    this.calls.push(name);
    const error = this.failures.get(name)?.shift();
    if (error) throw error;
  }

  /** The AWS resource as observe reads it. */
  private observation(): Observation {
    if (!this.aws.exists) return { exists: false, upToDate: false, ready: false, differences: [], status: {} };
    return {
      exists: true,
      id: 'data',
      upToDate: this.aws.differences.length === 0,
      ready: this.aws.ready,
      differences: [...this.aws.differences],
      status: { arn: 'arn:aws:s3:::data' },
      ...(this.aws.unmanaged ? { unmanaged: true } : {}),
    };
  }

  activities(): ReconcileActivities {
    return {
      loadResource: async () => {
        this.enter('loadResource');
        return this.resource ? structuredClone(this.resource) : null;
      },
      addFinalizer: async (_ref, uid) => {
        this.enter('addFinalizer');
        if (!this.resource || this.resource.uid !== uid) return false;
        this.resource.hasFinalizer = true;
        return true;
      },
      removeFinalizer: async (_ref, uid) => {
        this.enter('removeFinalizer');
        // Kubernetes deletes an object whose last finalizer goes while it is being deleted.
        if (this.resource?.uid === uid) {
          this.resource.hasFinalizer = false;
          if (this.resource.deleting) this.resource = null;
        }
      },
      patchStatus: async (_ref, _uid, status) => {
        this.enter('patchStatus');
        this.statuses.push(status);
      },
      recordEvent: async (_ref, _uid, event) => {
        this.enter('recordEvent');
        this.events.push(event);
      },
      observeResource: async (request): Promise<Observation> => {
        this.enter('observeResource');
        if (request.createIfAbsent) this.createIfAbsentAsked++;
        if (request.createIfAbsent && this.createsTagged && !this.aws.exists) {
          this.calls.push('createdByObserve');
          this.aws = { exists: true, differences: [], ready: this.aws.ready };
          return { ...this.observation(), created: true };
        }
        return this.observation();
      },
      createResource: async () => {
        this.enter('createResource');
        this.aws = { exists: true, differences: [], ready: this.aws.ready };
        return this.createAnswers ? this.observation() : null;
      },
      updateResource: async () => {
        this.enter('updateResource');
        this.aws.differences = [];
        this.aws.unmanaged = false;
      },
      deleteResource: async (): Promise<DeleteOutcome> => {
        this.enter('deleteResource');
        this.aws.exists = false;
        return 'Deleted';
      },
    };
  }
}

/** A failure as the AWS activities raise it. */
export function terminal(reason: string, message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: FailureType.Terminal, message, nonRetryable: true, details: [{ reason }] });
}

export function retryable(reason: string, message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: FailureType.Retryable, message, details: [{ reason }] });
}

export function providerNotReady(message: string): ApplicationFailure {
  return ApplicationFailure.create({
    type: FailureType.ProviderNotReady,
    message,
    nonRetryable: true,
    details: [{ reason: 'ProviderNotReady' }],
  });
}

/** Polls until `check` holds, failing with `what` after `timeoutMs`. */
export async function eventually(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
