/**
 * The one reconcile workflow, for every kind. One long-running execution per
 * custom resource (ID `Kind/namespace/name`), woken by the watcher's signals
 * and by its own durable timers:
 *
 *   load → (finalizer) → observe → decide → create | update → observe
 *        → write status → wait for a signal or a timer → continue-as-new
 *
 * Waiting is always `condition(…, timeout)`: a durable timer, so no activity
 * and no worker slot is held while AWS provisions or while the resource is
 * in sync. Everything kind-specific happens behind the AWS activities.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  continueAsNew,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { AwsLocation, AwsRequest, JsonObject, KubeEvent, LoadedResource, Management, Observation, ResourceStatus } from '../contract/activities.js';
import { Annotations, deletesInAws } from '../contract/identity.js';
import type { AwsActivities, KubeActivities } from '../contract/activities.js';
import { ALREADY_EXISTS, FailureType, OWNED_BY_ANOTHER, type FailureDetails } from '../contract/failures.js';
import { Action, claimable, decide, type DecisionInput } from './decide.js';
import {
  dependencyChangedSignal,
  driftDetectedSignal,
  reconcileStateQuery,
  resourceChangedSignal,
  searchAttributes,
} from './messages.js';
import { Phase, type ReconcileInput, type ReconcileState } from './state.js';
import { buildStatus, statusChanged, withCondition, type ExtraCondition, type PassOutcome } from './status.js';
import { awsSummaries, kubeSummaries, locationAttributes, timerSummary, withSummaries } from './summaries.js';

export type { ReconcileInput, ReconcileState } from './state.js';

// Kubernetes calls are short and idempotent, so they run as local
// activities: no round trip through the Temporal server for each, which
// would otherwise dominate the time from apply to Ready.
const kube = withSummaries(
  proxyLocalActivities<KubeActivities>({
    startToCloseTimeout: '30 seconds',
    // The API server being away is never the spec's fault: keep trying.
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
  }),
  kubeSummaries,
);

const awsRetry = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '30 seconds',
  // A few quick retries inside the activity; past that the workflow reports
  // the error in status and keeps backing off with its own durable timer.
  maximumAttempts: 5,
  nonRetryableErrorTypes: [FailureType.Terminal, FailureType.ProviderNotReady, FailureType.DependencyNotReady],
};

// Short enough that an attempt lost with a crashed worker is retried soon;
// every verb but delete is a handful of quick AWS calls.
const aws = withSummaries(proxyActivities<AwsActivities>({ startToCloseTimeout: '30 seconds', retry: awsRetry }), awsSummaries);

// Deleting can mean emptying a large bucket; the activity heartbeats between
// batches so a dead worker is noticed in a minute, not at the timeout.
const awsDelete = withSummaries(
  proxyActivities<AwsActivities>({
    startToCloseTimeout: '30 minutes',
    heartbeatTimeout: '1 minute',
    retry: awsRetry,
  }),
  awsSummaries,
);

/**
 * Longest wait between looks while AWS provisions, converges or deletes, and
 * while waiting for something no signal announces. AWS's own waiters poll
 * NAT gateways and RDS instances every 15 s; a longer cap would add up to
 * that much to every slow resource's time to Ready.
 */
const MAX_BACKOFF_SECONDS = 15;
/**
 * Longest wait between looks for an AWS resource the spec names by ID that
 * does not exist: at most a few AWS calls per resource per hour.
 */
const MAX_MISSING_BACKOFF_SECONDS = 1800;
/** The longest a status's lastSyncTime lags while nothing else in it changes. */
const LAST_SYNC_MAX_AGE_SECONDS = 3600;
/**
 * Every change to the workflow's commands since the patches below, in one
 * patch: each patch a run passes costs a marker and an upsert of
 * TemporalChangeVersion (a visibility write), so a new run pays for one,
 * not one per change. Runs that began before it replay the older patches
 * one by one. What it covers: a resync that finds nothing new writes no
 * status; a wait that moves on to another dependency posts an Event; a
 * create that answers with the resource is not looked at again; the first upsert
 * is skipped when the run's attributes already say it; no Pending status
 * is written before the first pass (its first status is what that pass
 * found), and the create posts no Creating Event (Created says it).
 */
const CURRENT_PATCH = 'engine-2026-12';
/** Runs that began before status writes on unchanged resyncs stopped replay the old way. */
const QUIET_RESYNC_PATCH = 'quiet-resync';
/** Runs that began before an Event marked a wait moving to another dependency post none for it. */
const WAIT_EVENTS_PATCH = 'wait-moved-on-event';
/** Runs that began before create answered with the resource look at it again after creating it. */
const CREATE_ANSWERS_PATCH = 'create-answers';

/** True when `status` was last written more than `seconds` ago (or never). */
function syncOlderThan(status: ResourceStatus | undefined, seconds: number): boolean {
  if (!status) return true;
  return Date.now() - Date.parse(status.lastSyncTime) > seconds * 1000;
}

/** Past this many events the history is handed to a fresh run. */
const DEFAULT_MAX_HISTORY_EVENTS = 2000;

/**
 * Looks while AWS provisions (an RDS instance creating, a NAT gateway
 * pending): 5, 10, then every 15 s, about as often as AWS's own waiters,
 * so a 60 s creation costs five describes, not seven.
 */
function provisioningBackoffSeconds(retries: number): number {
  return Math.min(5 * 2 ** Math.min(retries, 4), MAX_BACKOFF_SECONDS);
}

/** Backoff for the n-th consecutive wait: 1, 2, 4 … capped. */
function backoffSeconds(retries: number, cap: number): number {
  return Math.min(2 ** Math.min(retries, 11), cap);
}

/**
 * The condition that tells a script "needs a change to the spec or its
 * annotations" from "retrying" without reading messages (ACK's
 * ACK.Terminal): present, True, only while a terminal error holds.
 */
function terminalCondition(reason: string, message: string): ExtraCondition {
  return { type: 'Terminal', status: 'True', reason, message };
}

/** What a failed activity means for the resource. */
interface FailureOutcome {
  type: FailureType;
  reason: string;
  message: string;
  /** No signal will announce a fix (see FailureDetails.unwatched). */
  unwatched: boolean;
  /** An AWS ID the spec names does not exist (see FailureDetails.missingInAws). */
  missingInAws: boolean;
}

function describeFailure(error: unknown): FailureOutcome {
  if (error instanceof ActivityFailure && error.cause instanceof ApplicationFailure) {
    const cause = error.cause;
    const details = cause.details?.[0] as Partial<FailureDetails> | undefined;
    const known: string[] = [FailureType.Terminal, FailureType.ProviderNotReady, FailureType.DependencyNotReady];
    const type = known.includes(cause.type ?? '') ? (cause.type as FailureType) : FailureType.Retryable;
    return {
      type,
      reason: details?.reason ?? cause.type ?? 'Error',
      message: cause.message,
      unwatched: details?.unwatched === true,
      missingInAws: details?.missingInAws === true,
    };
  }
  if (error instanceof ActivityFailure) {
    return {
      type: FailureType.Retryable,
      reason: 'ActivityFailed',
      message: error.cause?.message ?? error.message,
      unwatched: false,
      missingInAws: false,
    };
  }
  // Anything else is a bug in this workflow: let Temporal fail the task and
  // retry it after a fix is deployed, instead of guessing.
  throw error;
}

/** Reconciles one custom resource for as long as it exists. */
export async function reconcileWorkflow(input: ReconcileInput): Promise<void> {
  const { ref } = input;
  // First, in the first workflow task: see CURRENT_PATCH.
  const current = patched(CURRENT_PATCH);
  /** Whether a change made under `older` applies: always in a current run. */
  const since = (older: string): boolean => current || patched(older);
  const state: ReconcileState = input.state ?? { retries: 0 };
  const resyncSeconds = input.resyncSeconds;
  const terminalRetrySeconds = input.terminalRetrySeconds ?? 3600;
  let wake = false;

  setHandler(resourceChangedSignal, (change) => {
    if (state.uid && change.uid !== state.uid) state.successorUid = change.uid;
    wake = true;
  });
  setHandler(dependencyChangedSignal, () => {
    // The provider (or another dependency) changed: a terminal error may be
    // fixed now, so allow one more try without a spec change.
    state.blocked = undefined;
    wake = true;
  });
  // The drift sweep saw AWS differ from the spec: look now, not at the safety net.
  setHandler(driftDetectedSignal, () => {
    wake = true;
  });
  setHandler(reconcileStateQuery, () => state);

  /** What a request needs of the resource: the spec, and whatever names its AWS identifier. */
  interface Target {
    spec: JsonObject;
    externalID?: string;
    management?: Management;
  }

  /** The AWS identifier recorded as ours: by this workflow, else by an earlier run in status. */
  function recordedID(target: Target): string | undefined {
    if (state.awsID !== undefined) return state.awsID ?? undefined;
    return target.externalID;
  }

  // Names each pass (one per load), so its activities read the provider once between them.
  let passes = 0;
  let pass = '';

  const request = (uid: string, target: Target): AwsRequest => {
    const awsID = recordedID(target) ?? target.management?.adoptionID;
    return {
      ref,
      uid,
      spec: target.spec,
      pass,
      ...(awsID ? { awsID } : {}),
      ...(target.management?.policy === 'Observe' ? { observeOnly: true } : {}),
    };
  };

  /** Everything decide needs besides the observation. */
  function decisionInput(target: Target, deletionPolicy: LoadedResource['deletionPolicy'], deleting: boolean): DecisionInput {
    const recorded = recordedID(target);
    return {
      deleting,
      deletionPolicy,
      ...(target.management ? { managementPolicy: target.management.policy } : {}),
      ...(target.management?.adoption ? { adoption: target.management.adoption } : {}),
      ...(recorded ? { recordedID: recorded } : {}),
      ...(state.creating ? { creating: true } : {}),
    };
  }

  /** Records the identifier of what observe found when it is ours; forgets it when it is gone. */
  function noteObserved(observed: Observation, decision: DecisionInput): void {
    if (observed.location) location = observed.location;
    if (decision.managementPolicy === 'Observe') return;
    if (!observed.exists) {
      if (state.awsID !== undefined || decision.recordedID) state.awsID = null;
      return;
    }
    const ours = !observed.ownedBy && (!observed.unmanaged || claimable(decision, observed));
    if (ours && observed.id) {
      state.awsID = observed.id;
      state.creating = undefined;
    }
  }

  /** The longest backoff while waiting out a failure. */
  function waitCap(failure: FailureOutcome): number {
    if (failure.missingInAws) return Math.max(resyncSeconds, MAX_MISSING_BACKOFF_SECONDS);
    return failure.unwatched ? MAX_BACKOFF_SECONDS : resyncSeconds;
  }

  /** Holds a generation (and annotations) that hit a terminal error until either changes or the retry time comes. */
  function block(resource: LoadedResource): void {
    state.blocked = {
      generation: resource.generation,
      until: Date.now() + terminalRetrySeconds * 1000,
      management: JSON.stringify(resource.management ?? null),
    };
  }

  // The account and region ride along with the phase: one upsert, written
  // when either changes. Histories recorded before observe returned a
  // location have none, so they replay the same upserts as before.
  let lastPhase: string | undefined;
  let location: AwsLocation | undefined;
  let lastLocation: string | undefined;
  let attributesRead = false;
  function setPhaseAttribute(phase: Phase): void {
    if (!attributesRead) {
      attributesRead = true;
      // The watcher starts each run as Pending, and a run continued as new
      // carries the last run's attributes: upserting them again is a
      // visibility write per resource that changes nothing.
      if (current) {
        const current = workflowInfo().typedSearchAttributes;
        lastPhase = current.get(searchAttributes.phase);
        const region = current.get(searchAttributes.region);
        lastLocation = region === undefined ? undefined : `${current.get(searchAttributes.account) ?? ''}/${region}`;
      }
    }
    const where = location && `${location.accountID ?? ''}/${location.region}`;
    if (phase === lastPhase && where === lastLocation) return;
    lastPhase = phase;
    lastLocation = where;
    upsertSearchAttributes([{ key: searchAttributes.phase, value: phase }, ...(location ? locationAttributes(location) : [])]);
  }

  // Counts the Events of this run; replay counts the same, so a retried
  // workflow task names its Events as the first attempt did.
  let events = 0;
  async function event(uid: string, type: KubeEvent['type'], reason: string, message: string): Promise<void> {
    const key = `${workflowInfo().runId}.${(events++).toString(36)}`;
    await kube.recordEvent(ref, uid, { type, reason, message, key });
  }

  /** Conditions every status carries once they hold. */
  function standingConditions(): ExtraCondition[] {
    return state.adoptedID
      ? [{ type: 'Adopted', status: 'True', reason: 'Adopted', message: `adopted the existing AWS resource ${state.adoptedID}` }]
      : [];
  }

  /** Writes status (and an Event when the Ready reason changes). */
  async function report(uid: string, outcome: PassOutcome): Promise<void> {
    setPhaseAttribute(outcome.phase);
    const previous = state.status;
    const standing = standingConditions();
    const withStanding = standing.length ? { ...outcome, conditions: [...(outcome.conditions ?? []), ...standing] } : outcome;
    const status = buildStatus(previous, withStanding, new Date().toISOString());
    const before = previous?.conditions.find((c) => c.type === 'Ready');
    const writes: Array<Promise<void>> = [];
    // A wait that moves on to another dependency (same reason, another
    // message naming it) is a transition a person follows too.
    const waitMovedOn = outcome.phase === Phase.Waiting && before?.reason === outcome.reason && before.message !== outcome.message;
    const transition =
      !before ||
      before.reason !== outcome.reason ||
      before.status !== (status.ready ? 'True' : 'False') ||
      (waitMovedOn && since(WAIT_EVENTS_PATCH));
    if (transition) {
      const warning = outcome.phase === Phase.Error;
      writes.push(event(uid, warning ? 'Warning' : 'Normal', outcome.reason, outcome.message));
    }
    // A resync that finds nothing new writes nothing: no etcd write and no
    // watch event per resource per resync. lastSyncTime then lags, by at
    // most LAST_SYNC_MAX_AGE_SECONDS.
    const write = since(QUIET_RESYNC_PATCH)
      ? statusChanged(previous, status) || syncOlderThan(previous, LAST_SYNC_MAX_AGE_SECONDS)
      : statusChanged(previous, status) || outcome.phase === Phase.Ready;
    if (write) writes.push(kube.patchStatus(ref, uid, status));
    await Promise.all(writes);
    state.status = write || !previous ? status : { ...status, lastSyncTime: previous.lastSyncTime };
  }

  /** Adds the Paused condition and changes nothing else a pass would have said. */
  async function reportPaused(uid: string, message: string): Promise<void> {
    const now = new Date().toISOString();
    const previous =
      state.status ?? buildStatus(undefined, { phase: Phase.Pending, reason: 'Paused', message, synced: undefined }, now);
    const wasPaused = previous.conditions.some((c) => c.type === 'Paused' && c.status === 'True');
    const status = withCondition(previous, { type: 'Paused', status: 'True', reason: 'Paused', message }, now);
    if (!wasPaused) {
      await Promise.all([event(uid, 'Normal', 'Paused', message), kube.patchStatus(ref, uid, status)]);
    }
    state.status = status;
  }

  /** Sleeps on a durable timer until it fires or a signal arrives. */
  async function waitFor(seconds: number): Promise<void> {
    await condition(() => wake, seconds * 1000, { summary: timerSummary(ref, seconds, state.status) });
    wake = false;
  }

  /** The status fields of a resource that is ours: observe's, and the identifier recorded for it. */
  function ownFields(observed: Observation): Observation['status'] {
    return { ...observed.status, ...(state.awsID ? { externalID: state.awsID } : {}) };
  }

  /** One pass over a live (not deleting) resource; returns seconds to wait. */
  async function reconcileLive(uid: string, resource: LoadedResource): Promise<number> {
    const generation = resource.generation;
    const management: Management = resource.management ?? { policy: 'Full', paused: false };
    const inputs = () => decisionInput(resource, resource.deletionPolicy, false);
    const look = async (createIfAbsent = false): Promise<Observation> => {
      const observed = await aws.observeResource({ ...request(uid, resource), ...(createIfAbsent ? { createIfAbsent } : {}) });
      noteObserved(observed, inputs());
      return observed;
    };
    // Absence would mean create (decide's rule): the observe activity may
    // create at once, for kinds whose create tags what it makes. Never
    // after a create of this run's, whose resource may just not show yet.
    const createOnAbsence =
      current &&
      management.policy === 'Full' &&
      management.adoption === undefined &&
      recordedID(resource) === undefined &&
      !state.creating;
    try {
      let observed: Observation = await look(createOnAbsence);
      let decision = decide({ ...inputs(), observed });
      if (observed.created) {
        await event(uid, 'Normal', 'Created', 'created the AWS resource');
        if (!observed.exists) {
          observed = await look();
          decision = decide({ ...inputs(), observed });
        }
      }
      if (decision.action === Action.Create) {
        if (!current) await event(uid, 'Normal', 'Creating', 'creating the AWS resource');
        state.creating = true;
        const created = await aws.createResource(request(uid, resource));
        if (created && since(CREATE_ANSWERS_PATCH)) {
          noteObserved(created, inputs());
          observed = created;
        } else {
          observed = await look();
        }
        decision = decide({ ...inputs(), observed });
        await event(uid, 'Normal', 'Created', 'created the AWS resource');
      } else if (decision.action === Action.Update) {
        // Same generation as last fully applied: the spec did not change, so
        // AWS did. A pass that failed half-way applied nothing in full, so
        // finishing its work is no drift.
        const applied = state.appliedGeneration ?? (state.status?.ready ? state.status.observedGeneration : undefined);
        const drift = applied === generation;
        await aws.updateResource(request(uid, resource), observed);
        await event(
          uid,
          'Normal',
          drift ? 'DriftRepaired' : 'Updated',
          `${drift ? 'repaired changes made outside the operator' : 'applied the new spec'}: ${observed.differences.join('; ')}`,
        );
        observed = await look();
        decision = decide({ ...inputs(), observed });
      } else if (decision.action === Action.Adopt) {
        // Adopting is an update that also writes the owner tags: from then on
        // the resource is ours, and deletionPolicy applies to it.
        const adopted = observed.id ?? 'the AWS resource';
        await aws.updateResource(request(uid, { ...resource, ...(observed.id ? { externalID: observed.id } : {}) }), observed);
        state.adoptedID = adopted;
        await event(uid, 'Normal', 'Adopted', `adopted ${adopted}, which existed before this resource; it is managed from now on`);
        observed = await look();
        decision = decide({ ...inputs(), observed });
      }
      switch (decision.action) {
        case Action.InSync:
          state.retries = 0;
          state.appliedGeneration = generation;
          await report(uid, {
            phase: Phase.Ready,
            reason: 'Available',
            message: 'the AWS resource matches the spec',
            synced: true,
            observedGeneration: generation,
            fields: ownFields(observed),
          });
          // A worker whose drift sweep covers the kind says how long the
          // safety net is; the sweep wakes this run on drift before that.
          return resource.safetyResyncSeconds ?? resyncSeconds;
        case Action.WaitUntilReady:
          await report(uid, {
            phase: Phase.Provisioning,
            reason: 'Provisioning',
            message: decision.reason,
            synced: true,
            observedGeneration: generation,
            fields: ownFields(observed),
          });
          return provisioningBackoffSeconds(state.retries++);
        case Action.Conflict:
        case Action.AlreadyExists: {
          // Not ours: wait for a spec change or an adoption annotation (both
          // wake it); nothing of it goes into status.
          const conflict = decision.action === Action.Conflict;
          block(resource);
          await report(uid, {
            phase: Phase.Error,
            reason: conflict ? 'AlreadyManaged' : 'AlreadyExists',
            message: conflict ? `${decision.reason}; choose another name` : decision.reason,
            synced: false,
            observedGeneration: generation,
            fields: {},
            conditions: [terminalCondition(conflict ? 'AlreadyManaged' : 'AlreadyExists', decision.reason)],
          });
          return terminalRetrySeconds;
        }
        case Action.AdoptionTargetMissing:
          // It may yet be made in AWS, which no signal announces.
          await report(uid, {
            phase: Phase.Error,
            reason: 'AdoptionTargetNotFound',
            message: decision.reason,
            synced: false,
            observedGeneration: generation,
          });
          return backoffSeconds(state.retries++, resyncSeconds);
        case Action.Observed: {
          state.retries = 0;
          const drift = observed.differences.join('; ');
          if (drift && drift !== state.reportedDrift) {
            await event(uid, 'Warning', 'DriftDetected', `observe-only: AWS differs from the spec: ${drift}`);
          }
          state.reportedDrift = drift;
          await report(uid, {
            phase: observed.ready ? Phase.Ready : Phase.Provisioning,
            reason: 'Observed',
            message: decision.reason,
            synced: drift === '',
            syncedReason: 'DriftDetected',
            syncedMessage: `AWS differs from the spec (observe-only, not repaired): ${drift}`,
            observedGeneration: generation,
            fields: observed.status,
          });
          return resyncSeconds;
        }
        case Action.ObservedMissing:
          await report(uid, {
            phase: Phase.NotFound,
            reason: 'NotFound',
            message: `${decision.reason}; nothing is created`,
            synced: false,
            observedGeneration: generation,
          });
          return backoffSeconds(state.retries++, resyncSeconds);
        default:
          // AWS has not caught up with a create or update yet (eventual
          // consistency): look again soon.
          await report(uid, {
            phase: Phase.Provisioning,
            reason: 'Converging',
            message: decision.reason,
            synced: false,
            observedGeneration: generation,
            fields: ownFields(observed),
          });
          return backoffSeconds(state.retries++, MAX_BACKOFF_SECONDS);
      }
    } catch (error) {
      const failure = describeFailure(error);
      if (failure.type === FailureType.ProviderNotReady || failure.type === FailureType.DependencyNotReady) {
        // The watcher signals when the provider or dependency changes; the
        // timer is only a safety net, except for what it cannot see.
        await report(uid, { phase: Phase.Waiting, reason: failure.reason, message: failure.message, synced: undefined });
        return backoffSeconds(state.retries++, waitCap(failure));
      }
      if (failure.type === FailureType.Terminal) {
        // A create that found the name taken made nothing of ours to claim.
        // Any other terminal error may come after the create call made the
        // resource (a tag AWS refuses, say): that one stays ours to claim.
        if (failure.reason === ALREADY_EXISTS || failure.reason === OWNED_BY_ANOTHER) state.creating = undefined;
        block(resource);
        await report(uid, {
          phase: Phase.Error,
          reason: failure.reason,
          message: `${failure.message} (needs a change to the spec: tried again when the spec, its annotations or a dependency change, or after ${terminalRetrySeconds} s)`,
          conditions: [terminalCondition(failure.reason, failure.message)],
          synced: false,
          observedGeneration: generation,
        });
        return terminalRetrySeconds;
      }
      await report(uid, {
        phase: Phase.Error,
        reason: failure.reason,
        message: `${failure.message} (retrying)`,
        synced: false,
        observedGeneration: generation,
      });
      return backoffSeconds(state.retries++, resyncSeconds);
    }
  }

  /**
   * Deletion, one step: returns true once the finalizer is released (or
   * nothing is left to do), false after a wait, so the next load sees any
   * change made meanwhile (a new deletionPolicy, forceDestroy, an annotation
   * removed). Honours deletionPolicy exactly: Retain and Orphan never call
   * AWS (so a broken provider never blocks them), Delete removes the AWS
   * resource and waits until it is gone.
   */
  async function finalize(uid: string, resource: LoadedResource | null): Promise<boolean> {
    const live = resource !== null && resource.uid === uid;
    const target: Target | undefined = live
      ? resource
      : state.spec && { spec: state.spec, ...(state.management ? { management: state.management } : {}) };
    const deletionPolicy = (live ? resource.deletionPolicy : state.deletionPolicy) ?? 'Delete';
    if (!target) return true;
    if (live && resource.usedBy?.length) {
      // Its users need it (and the Secret it reads) to delete their own AWS
      // resources; each one's removal wakes this workflow.
      const users = resource.usedBy;
      await report(uid, {
        phase: Phase.Deleting,
        reason: 'InUse',
        message: `deletion waits until the ${users.length} resources using it are deleted: ${users.slice(0, 10).join(', ')}${users.length > 10 ? ', …' : ''}`,
        synced: true,
      });
      await waitFor(backoffSeconds(state.retries++, resyncSeconds));
      return false;
    }
    const management = target.management;
    if (management?.paused && management.policy !== 'Observe' && deletesInAws(deletionPolicy)) {
      // A vanished object cannot be unpaused: nothing may call AWS for it.
      if (!live) return true;
      await report(uid, {
        phase: Phase.Deleting,
        reason: 'Paused',
        message: `deletion waits: the resource is paused (${Annotations.paused}); remove the annotation to delete the AWS resource, or set deletionPolicy Retain or Orphan to keep it`,
        synced: true,
      });
      await waitFor(resyncSeconds);
      return false;
    }
    const deletion: AwsRequest = { ...request(uid, target), deleting: true };
    let observed: Observation | undefined;
    for (;;) {
      const inputs = decisionInput(target, deletionPolicy, true);
      const decision = decide({ ...inputs, ...(observed ? { observed } : {}) });
      try {
        switch (decision.action) {
          case Action.Observe:
            observed = await aws.observeResource(deletion);
            continue;
          case Action.Delete: {
            await report(uid, { phase: Phase.Deleting, reason: 'Deleting', message: decision.reason, synced: true });
            const outcome = await awsDelete.deleteResource(deletion);
            observed = undefined;
            if (outcome === 'Deleted') continue;
            // Deleting: AWS is removing it, or it waits for its dependents to
            // go first. Either way look again after a durable backoff.
            await waitFor(backoffSeconds(state.retries++, MAX_BACKOFF_SECONDS));
            return false;
          }
          case Action.WaitUntilDeleted:
            await report(uid, { phase: Phase.Deleting, reason: 'Deleting', message: decision.reason, synced: true });
            await waitFor(backoffSeconds(state.retries++, MAX_BACKOFF_SECONDS));
            return false;
          default: {
            const deleted = deletesInAws(deletionPolicy) && observed !== undefined && !observed.exists;
            if (live) {
              await event(uid, 'Normal', deleted ? 'Deleted' : 'Released', decision.reason);
              await kube.removeFinalizer(ref, uid);
            }
            return true;
          }
        }
      } catch (error) {
        const failure = describeFailure(error);
        await report(uid, {
          phase: failure.type === FailureType.Retryable || failure.type === FailureType.Terminal ? Phase.Error : Phase.Waiting,
          reason: failure.reason,
          message: `deletion blocked: ${failure.message}`,
          synced: false,
        });
        await waitFor(backoffSeconds(state.retries++, waitCap(failure)));
        return false;
      }
    }
  }

  /** Hands a long history to a fresh run. */
  async function continueIfLong(): Promise<void> {
    const info = workflowInfo();
    if (info.continueAsNewSuggested || info.historyLength > (input.maxHistoryEvents ?? DEFAULT_MAX_HISTORY_EVENTS)) {
      await continueAsNew<typeof reconcileWorkflow>({ ...input, state });
    }
  }

  for (;;) {
    // Whatever woke us before this load is covered by it; a signal that
    // arrives from here on means another pass.
    wake = false;
    const resource = await kube.loadResource(ref);
    pass = `${workflowInfo().runId}.${(passes++).toString(36)}`;
    if (resource && !state.uid) state.uid = resource.uid;
    const uid = state.uid;
    if (!uid) return; // Never existed while this run looked: nothing was made in AWS.

    if (!resource || resource.uid !== uid || resource.deleting) {
      if (!(await finalize(uid, resource))) {
        await continueIfLong();
        continue;
      }
      if (state.successorUid || (resource && resource.uid !== uid)) {
        // The same name now belongs to a new object: start over for it.
        await continueAsNew<typeof reconcileWorkflow>({ ...input, state: { retries: 0 } });
      }
      return;
    }

    state.spec = resource.spec;
    state.deletionPolicy = resource.deletionPolicy;
    // A result recorded before annotations were read (an older worker's) has none.
    const management: Management = resource.management ?? { policy: 'Full', paused: false };
    state.management = management;
    let waitSeconds: number;
    if (resource.invalid) {
      await report(uid, {
        phase: Phase.Error,
        reason: 'InvalidSpec',
        message: resource.invalid,
        synced: false,
        observedGeneration: resource.generation,
        conditions: [terminalCondition('InvalidSpec', resource.invalid)],
      });
      waitSeconds = terminalRetrySeconds;
    } else if (management.policy === 'Full' && !resource.hasFinalizer && !(await kube.addFinalizer(ref, uid))) {
      continue; // Gone between load and patch: the next load sees why.
    } else if (management.paused) {
      await reportPaused(uid, `paused by the annotation ${Annotations.paused}: no AWS call is made until it is removed`);
      waitSeconds = resyncSeconds;
    } else if (
      state.blocked?.generation === resource.generation &&
      state.blocked.management === JSON.stringify(resource.management ?? null) &&
      Date.now() < state.blocked.until
    ) {
      // Woken without a spec change (a re-list, say): keep waiting out the terminal error.
      waitSeconds = Math.ceil((state.blocked.until - Date.now()) / 1000);
    } else {
      state.blocked = undefined;
      // A current run's first status is what its first pass found: a
      // Pending status before it would cost a write and a watch event per
      // resource only to say that work began.
      if (!state.status && !current) await report(uid, { phase: Phase.Pending, reason: 'Reconciling', message: 'reconciling', synced: undefined });
      waitSeconds = await reconcileLive(uid, resource);
    }

    await waitFor(waitSeconds);
    await continueIfLong();
  }
}
