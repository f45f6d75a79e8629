/**
 * The decision step of the reconcile loop: a pure function from what the
 * spec wants and what AWS has to the one next action. No I/O, no clock, so
 * it is tested as a table and can never differ between replays.
 */
import type { DeletionPolicy } from '../crds/schema.js';

/** What observe reported, reduced to what the decision needs. */
export interface ObservedSummary {
  exists: boolean;
  upToDate: boolean;
  ready: boolean;
  /** AWS lifecycle state, when the kind has one. */
  state?: string;
  differences: string[];
  /** Owner tag of another custom resource, when the AWS resource is theirs. */
  ownedBy?: string;
}

/** Everything `decide` looks at. */
export interface DecisionInput {
  /** The custom resource has a deletionTimestamp (or is gone from the API). */
  deleting: boolean;
  deletionPolicy: DeletionPolicy;
  /** Absent when nothing was observed (deletion that keeps the resource needs no AWS call). */
  observed?: ObservedSummary;
}

export const Action = {
  /** Nothing exists yet: create it. */
  Create: 'Create',
  /** It exists and differs from the spec: update it. */
  Update: 'Update',
  /** It exists as specified but AWS has not finished making it usable. */
  WaitUntilReady: 'WaitUntilReady',
  /** It exists, matches and is usable. */
  InSync: 'InSync',
  /** Another custom resource owns the AWS resource of that name. */
  Conflict: 'Conflict',
  /** Observe AWS before deciding (only deletion with policy Delete needs it). */
  Observe: 'Observe',
  /** Deletion with policy Delete and the AWS resource still there. */
  Delete: 'Delete',
  /** AWS is deleting it; wait. */
  WaitUntilDeleted: 'WaitUntilDeleted',
  /** Nothing left to do in AWS: drop the finalizer and let the object go. */
  Release: 'Release',
} as const;
export type Action = (typeof Action)[keyof typeof Action];

export interface Decision {
  action: Action;
  /** Why, in words that go into conditions and Events. */
  reason: string;
}

const DELETING_STATES = new Set(['deleting', 'shutting-down', 'pending-deletion', 'PendingDeletion']);

/** Decides the next action. */
export function decide(input: DecisionInput): Decision {
  const { observed } = input;
  if (input.deleting) {
    if (input.deletionPolicy !== 'Delete') {
      return { action: Action.Release, reason: `deletionPolicy ${input.deletionPolicy} keeps the AWS resource` };
    }
    if (!observed) return { action: Action.Observe, reason: 'deletionPolicy Delete: look up the AWS resource first' };
    if (!observed.exists) return { action: Action.Release, reason: 'the AWS resource is gone' };
    if (observed.ownedBy) {
      return { action: Action.Release, reason: `the AWS resource belongs to ${observed.ownedBy}; leaving it in place` };
    }
    if (observed.state && DELETING_STATES.has(observed.state)) {
      return { action: Action.WaitUntilDeleted, reason: `AWS reports state ${observed.state}` };
    }
    return { action: Action.Delete, reason: 'deletionPolicy Delete' };
  }
  if (!observed) return { action: Action.Observe, reason: 'nothing observed yet' };
  if (!observed.exists) return { action: Action.Create, reason: 'the AWS resource does not exist' };
  if (observed.ownedBy) {
    return { action: Action.Conflict, reason: `the AWS resource is already managed by ${observed.ownedBy}` };
  }
  if (!observed.upToDate) {
    return { action: Action.Update, reason: `differs from the spec: ${observed.differences.join('; ') || 'unknown fields'}` };
  }
  if (!observed.ready) {
    return { action: Action.WaitUntilReady, reason: observed.state ? `AWS reports state ${observed.state}` : 'not ready yet' };
  }
  return { action: Action.InSync, reason: 'matches the spec' };
}
