/**
 * The decision step of the reconcile loop: a pure function from what the
 * spec wants and what AWS has to the one next action. No I/O, no clock, so
 * it is tested as a table and can never differ between replays.
 */
import type { Observation } from '../contract/activities.js';
import { Annotations, deletesInAws, type AdoptionPolicy, type DeletionPolicy, type ManagementPolicy } from '../contract/identity.js';

/** What observe reported, reduced to what the decision needs (see Observation for each field). */
export type ObservedSummary = Pick<Observation, 'exists' | 'upToDate' | 'ready' | 'differences'> &
  Partial<Pick<Observation, 'state' | 'lifecycle' | 'id' | 'ownedBy' | 'unmanaged'>>;

/** Everything `decide` looks at. */
export interface DecisionInput {
  /** The custom resource has a deletionTimestamp (or is gone from the API). */
  deleting: boolean;
  deletionPolicy: DeletionPolicy;
  /** Absent when nothing was observed (deletion that keeps the resource needs no AWS call). */
  observed?: ObservedSummary;
  /** `Observe`: read only, never write. Default `Full`. */
  managementPolicy?: ManagementPolicy;
  /** The adoption annotation, when set. */
  adoption?: AdoptionPolicy;
  /**
   * The AWS identifier recorded as ours (created or adopted by this
   * resource). A resource found under it is ours even when its owner tag
   * was removed by hand: that is drift, repaired by update.
   */
  recordedID?: string;
  /**
   * A create was issued and its result not yet observed as ours: an
   * untagged resource of our name is then the one that create made (a crash
   * between creating and tagging), not someone else's.
   */
  creating?: boolean;
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
  /** Another custom resource (or cluster) owns the AWS resource of that name. */
  Conflict: 'Conflict',
  /** It exists, was not made by this operator, and this resource does not adopt it: leave it alone. */
  AlreadyExists: 'AlreadyExists',
  /** It exists, was not made by this operator, and the adoption annotation asks to manage it. */
  Adopt: 'Adopt',
  /** adoption-policy adopt and nothing to adopt: never create. */
  AdoptionTargetMissing: 'AdoptionTargetMissing',
  /** Observe-only: it exists; report what differs, change nothing. */
  Observed: 'Observed',
  /** Observe-only: it does not exist; report that, create nothing. */
  ObservedMissing: 'ObservedMissing',
  /** Observe AWS before deciding (only a deletion whose policy deletes in AWS needs it). */
  Observe: 'Observe',
  /** Deletion under a policy that deletes in AWS (Delete, or a kind's own such as Snapshot), the AWS resource still there. */
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

/** An unmanaged resource that is ours all the same: recorded as ours, or just made by our create. */
export function claimable(input: DecisionInput, observed: ObservedSummary): boolean {
  return input.creating === true || (observed.id !== undefined && observed.id === input.recordedID);
}

/** Decides the next action. */
export function decide(input: DecisionInput): Decision {
  const { observed } = input;
  const observeOnly = input.managementPolicy === 'Observe';
  if (input.deleting) {
    if (observeOnly) {
      return { action: Action.Release, reason: `${Annotations.managementPolicy} Observe never deletes the AWS resource` };
    }
    if (!deletesInAws(input.deletionPolicy)) {
      return { action: Action.Release, reason: `deletionPolicy ${input.deletionPolicy} keeps the AWS resource` };
    }
    if (!observed) return { action: Action.Observe, reason: `deletionPolicy ${input.deletionPolicy}: look up the AWS resource first` };
    if (!observed.exists) return { action: Action.Release, reason: 'the AWS resource is gone' };
    if (observed.ownedBy) {
      return { action: Action.Release, reason: `the AWS resource belongs to ${observed.ownedBy}; leaving it in place` };
    }
    if (observed.unmanaged && !claimable(input, observed)) {
      return { action: Action.Release, reason: 'the AWS resource was not created by this operator; leaving it in place' };
    }
    if (observed.lifecycle === 'Deleting') {
      return { action: Action.WaitUntilDeleted, reason: `AWS reports state ${observed.state ?? 'deleting'}` };
    }
    return { action: Action.Delete, reason: `deletionPolicy ${input.deletionPolicy}` };
  }
  if (!observed) return { action: Action.Observe, reason: 'nothing observed yet' };
  if (observeOnly) {
    if (!observed.exists) {
      return { action: Action.ObservedMissing, reason: `${Annotations.managementPolicy} Observe: the AWS resource does not exist` };
    }
    return { action: Action.Observed, reason: `${Annotations.managementPolicy} Observe: the AWS resource is read, never changed` };
  }
  if (!observed.exists) {
    if (input.adoption === 'adopt') {
      return {
        action: Action.AdoptionTargetMissing,
        reason: `${Annotations.adoptionPolicy} adopt: there is no such AWS resource to adopt (kinds AWS identifies by ID need its ID in ${Annotations.adoptionID}); nothing is created`,
      };
    }
    return { action: Action.Create, reason: 'the AWS resource does not exist' };
  }
  if (observed.ownedBy) {
    return { action: Action.Conflict, reason: `the AWS resource is already managed by ${observed.ownedBy}` };
  }
  if (observed.unmanaged && !claimable(input, observed)) {
    const what = observed.id ? `the AWS resource ${observed.id}` : 'the AWS resource';
    if (input.adoption) {
      return { action: Action.Adopt, reason: `${Annotations.adoptionPolicy} ${input.adoption}: adopting ${what}` };
    }
    return {
      action: Action.AlreadyExists,
      reason: `${what} already exists and was not created by this operator; nothing was changed. To manage it, annotate this resource ${Annotations.adoptionPolicy}=adopt`,
    };
  }
  if (!observed.upToDate) {
    return { action: Action.Update, reason: `differs from the spec: ${observed.differences.join('; ') || 'unknown fields'}` };
  }
  if (!observed.ready) {
    return { action: Action.WaitUntilReady, reason: observed.state ? `AWS reports state ${observed.state}` : 'not ready yet' };
  }
  return { action: Action.InSync, reason: 'matches the spec' };
}
