/**
 * The worker's reconcile metrics, derived from what its activities are
 * asked and answer (an activity interceptor), so that no workflow code
 * counts anything and a replay counts nothing twice:
 * - observeResource, createResource and updateResource of a live resource
 *   → infra_operator_reconciles_total;
 * - patchStatus → apply-to-Ready time (a Ready status for a generation not
 *   yet seen Ready), time spent in each waiting phase and reason (observed
 *   when the status leaves it), terminal errors (a Terminal condition with
 *   a new reason);
 * - removeFinalizer → the end of a Deleting wait.
 *
 * What a status write is compared with is remembered per resource in this
 * process. A worker that restarts mid-wait does not observe that wait; with
 * several workers, each resource's local activities run on the worker that
 * holds its workflow, so its writes are nearly always seen by one.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import type { AwsRequest, Observation, ResourceStatus } from '../contract/activities.js';
import { FailureType } from '../contract/failures.js';
import { workflowIdFor, type ObjectRef } from '../contract/identity.js';
import { readCustomResource, type CustomResource, type KubeClients } from '../kube/client.js';
import { errorText, log, resourceFields } from '../process/log.js';
import { applyToReady, reconciles, terminalErrors, waitSeconds } from '../process/metrics.js';

/** Phases in which a resource waits for something other than the operator. */
const WAITING_PHASES: ReadonlySet<string> = new Set(['Waiting', 'Provisioning', 'Deleting']);

/** What one observation of AWS found, as the `outcome` of infra_operator_reconciles_total. */
export function observationOutcome(observed: Observation): string {
  if (!observed.exists) return 'absent';
  if (observed.ownedBy !== undefined) return 'not_ours';
  if (!observed.upToDate) return 'out_of_sync';
  return observed.ready ? 'in_sync' : 'provisioning';
}

/** A failed observation's outcome: waiting (provider or dependency), terminal, or retryable. */
export function failureOutcome(error: unknown): string {
  const type = error instanceof ApplicationFailure ? error.type : undefined;
  if (type === FailureType.ProviderNotReady || type === FailureType.DependencyNotReady) return 'waiting';
  if (type === FailureType.Terminal) return 'terminal';
  return 'retryable';
}

/**
 * When the spec a Ready status speaks for was applied: the object's
 * creation for generation 1, else the newest write of a spec field
 * (managedFields, to the second).
 */
export function appliedAt(object: CustomResource): number | undefined {
  const metadata = object.metadata ?? {};
  const created = metadata.creationTimestamp ? new Date(metadata.creationTimestamp).getTime() : undefined;
  if ((metadata.generation ?? 1) <= 1) return created;
  let latest: number | undefined;
  for (const entry of metadata.managedFields ?? []) {
    if (entry.subresource || !entry.time) continue;
    const fields = entry.fieldsV1 as Record<string, unknown> | undefined;
    if (!fields || !('f:spec' in fields)) continue;
    const time = new Date(entry.time).getTime();
    if (latest === undefined || time > latest) latest = time;
  }
  return latest ?? created;
}

interface Remembered {
  uid: string;
  /** The waiting phase and reason of the last status written, and since when. */
  wait?: { phase: string; reason: string; since: number };
  /** The reason of the Terminal condition last written. */
  terminal?: string;
  /** The last generation written as Ready. */
  readyGeneration?: number;
}

/** What a status write means for the metrics; `cameReady` asks the caller for the apply time. */
export interface StatusChange {
  cameReady: boolean;
}

function condition(status: ResourceStatus, type: string) {
  return status.conditions.find((c) => c.type === type);
}

/** Status writes compared with the last one of the same resource. */
export class StatusMetrics {
  private readonly resources = new Map<string, Remembered>();

  /** Records one status write made at `now` (ms). */
  written(ref: ObjectRef, uid: string, status: ResourceStatus, now: number = Date.now()): StatusChange {
    const key = workflowIdFor(ref);
    const known = this.resources.get(key);
    const before: Remembered | undefined = known?.uid === uid ? known : undefined;
    const after: Remembered = { uid };
    const ready = condition(status, 'Ready');

    const reason = ready?.reason ?? '';
    if (WAITING_PHASES.has(status.phase)) {
      const same = before?.wait && before.wait.phase === status.phase && before.wait.reason === reason;
      after.wait = same && before.wait ? before.wait : { phase: status.phase, reason, since: now };
    }
    if (before?.wait && after.wait !== before.wait) this.observeWait(ref, before.wait, now);

    const terminal = condition(status, 'Terminal');
    if (terminal?.status === 'True') {
      after.terminal = terminal.reason;
      // Known before with another reason, or turned terminal in this very write.
      const isNew = before ? before.terminal !== terminal.reason : terminal.lastTransitionTime === status.lastSyncTime;
      if (isNew) terminalErrors.inc({ kind: ref.kind, reason: terminal.reason });
    }

    let cameReady = false;
    if (status.ready) {
      after.readyGeneration = status.observedGeneration;
      const transitioned = ready?.lastTransitionTime === status.lastSyncTime;
      const newGeneration = before?.readyGeneration !== undefined && before.readyGeneration !== status.observedGeneration;
      cameReady = (transitioned || newGeneration) && before?.readyGeneration !== status.observedGeneration;
    } else if (before?.readyGeneration !== undefined) {
      after.readyGeneration = before.readyGeneration;
    }
    this.resources.set(key, after);
    return { cameReady };
  }

  /** The resource is gone (its finalizer removed): ends its wait, forgets it. */
  finished(ref: ObjectRef, uid: string, now: number = Date.now()): void {
    const key = workflowIdFor(ref);
    const known = this.resources.get(key);
    if (known?.uid !== uid) return;
    if (known.wait) this.observeWait(ref, known.wait, now);
    this.resources.delete(key);
  }

  /** Resources remembered; for tests. */
  size(): number {
    return this.resources.size;
  }

  private observeWait(ref: ObjectRef, wait: NonNullable<Remembered['wait']>, now: number): void {
    waitSeconds.observe({ kind: ref.kind, phase: wait.phase, reason: wait.reason }, Math.max(0, (now - wait.since) / 1000));
  }
}

/** Observes apply-to-Ready of a status just written as Ready, from the object as it is now. */
export async function observeApplyToReady(clients: KubeClients, ref: ObjectRef, uid: string, status: ResourceStatus, now: number = Date.now()): Promise<void> {
  const object = await readCustomResource<Record<string, unknown>, Record<string, unknown>>(clients, ref);
  // Replaced, or the spec changed again since: this Ready is not for the generation it now has.
  if (object?.metadata?.uid !== uid || object.metadata.generation !== status.observedGeneration) return;
  const applied = appliedAt(object);
  if (applied !== undefined) applyToReady.observe({ kind: ref.kind }, Math.max(0, (now - applied) / 1000));
}

/** The AWS activities of a live pass, and the outcome each one's answer means. */
const RECONCILE_OUTCOMES: Readonly<Record<string, (result: unknown) => string>> = {
  observeResource: (result) => observationOutcome(result as Observation),
  createResource: () => 'created',
  updateResource: () => 'updated',
};

/** The worker's activity interceptor that keeps the metrics above. */
export function activityMetrics(clients: KubeClients, statuses: StatusMetrics = new StatusMetrics()): ActivityInterceptorsFactory {
  async function after(activityType: string, args: unknown[], result: unknown): Promise<void> {
    const outcome = RECONCILE_OUTCOMES[activityType];
    if (outcome) {
      const request = args[0] as AwsRequest;
      if (!request.deleting) reconciles.inc({ kind: request.ref.kind, outcome: outcome(result) });
    } else if (activityType === 'patchStatus') {
      const [ref, uid, status] = args as [ObjectRef, string, ResourceStatus];
      if (statuses.written(ref, uid, status).cameReady) await observeApplyToReady(clients, ref, uid, status);
    } else if (activityType === 'removeFinalizer') {
      const [ref, uid] = args as [ObjectRef, string];
      statuses.finished(ref, uid);
    }
  }
  return (context) => ({
    inbound: {
      async execute(input, next) {
        const { activityType } = context.info;
        let result: unknown;
        try {
          result = await next(input);
        } catch (error) {
          const request = input.args[0] as AwsRequest | undefined;
          if (RECONCILE_OUTCOMES[activityType] && request && !request.deleting) {
            reconciles.inc({ kind: request.ref.kind, outcome: failureOutcome(error) });
          }
          throw error;
        }
        try {
          await after(activityType, input.args, result);
        } catch (error) {
          // A metric is never worth failing the activity for.
          const ref = (input.args[0] as { ref?: ObjectRef } | ObjectRef | undefined) ?? undefined;
          const resource = ref && 'kind' in ref ? ref : ref?.ref;
          log.warn('metrics not recorded', { ...(resource ? resourceFields(resource) : {}), activityType, error: errorText(error) });
        }
        return result;
      },
    },
  });
}
