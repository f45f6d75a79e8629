/**
 * The drift sweep's activity: for each kind due, judge every Ready resource
 * of the kind against AWS at once, and wake (driftDetected) only the
 * reconcile workflows whose resource differs from its spec or is no longer
 * where it was.
 *
 * Per kind and pass: one Kubernetes list of the kind; per provider (and
 * namespace using it) one provider read and credential look-up; each
 * referenced object read at most once; and then, for a kind whose handler
 * has `observeMany` (the EC2 kinds), one bulk read of AWS per provider,
 * else the handler's own `observe` per resource, a few at a time.
 *
 * Only resources a pass of their own would find nothing to do for are
 * judged here: Ready as last reported for their current generation, fully
 * managed, not paused, not being deleted. The rest are their own
 * workflow's business, and it keeps looking at them on its short timers.
 * What the sweep judges, it judges as the workflow would: the handler's
 * observation, then `decide`; anything but InSync, or status fields that
 * moved, wakes the workflow, which then observes and repairs as ever.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { API_GROUP, API_VERSION, kindDefinition, type KindDefinition } from '../../crds/index.js';
import { providerReference } from '../../crds/kind.js';
import type { AwsRequest, JsonObject, Observation, SweepActivities, SweepReport } from '../../contract/activities.js';
import { FINALIZER, workflowIdFor, type ObjectRef } from '../../contract/identity.js';
import { FailureType } from '../../contract/failures.js';
import { readCustomResource, type CustomResource, type KubeClients } from '../../kube/client.js';
import { log } from '../../process/log.js';
import { Action, decide } from '../../workflows/decide.js';
import type { DriftFound } from '../../workflows/messages.js';
import { contextIn, providerSession, type AwsSettings, type ReferenceReader, type SharedLookups } from '../aws/context.js';
import type { AwsClientConfig, AwsContext, BulkObservation } from '../aws/handler.js';
import { handlerFor, type RegisteredHandler } from '../aws/registry.js';
import { managementFrom, recordedID, specProblems } from '../kube/activities.js';
import { withoutSecretFields } from '../kube/secrets.js';

/** How many differences a drift signal carries; the workflow finds them all itself. */
const MAX_SIGNALLED_DIFFERENCES = 5;

/** What the sweep needs from the worker. */
export interface SweepOptions {
  clients: KubeClients;
  settings: AwsSettings;
  /** Sends driftDetected to the resource's reconcile workflow; a workflow that is not running is no error. */
  wake: (ref: ObjectRef, drift: DriftFound) => Promise<void>;
  /** Per-resource observes (and signals) in flight at once, per kind. */
  concurrency: number;
  /** Reports liveness; the activity's heartbeat by default. */
  heartbeat?: () => void;
}

type Item = CustomResource<JsonObject, Record<string, unknown>>;

/** One resource the sweep judges, with the request its workflow would make. */
interface Candidate {
  item: Item;
  ref: ObjectRef;
  request: AwsRequest;
  adoption?: 'adopt' | 'adopt-or-create';
}

/** Runs `work` over `items`, at most `limit` at a time, answers in order. */
export async function mapBounded<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

/**
 * The resource as the sweep judges it, or undefined when it is its own
 * workflow's business: not Ready for its current generation as that
 * workflow last reported (creating, converging, failing, waiting), being
 * deleted, observe-only, paused, or with a spec or annotation its
 * workflow reports as invalid.
 */
export function candidateOf(definition: KindDefinition, item: Item): Candidate | undefined {
  const metadata = item.metadata;
  if (!metadata?.uid || !metadata.name || metadata.deletionTimestamp) return undefined;
  if (!(metadata.finalizers ?? []).includes(FINALIZER)) return undefined;
  const status = item.status;
  if (status?.ready !== true || status.observedGeneration !== metadata.generation) return undefined;
  const conditions = (status.conditions ?? []) as Array<{ type?: string; status?: string; reason?: string }>;
  if (conditions.find((c) => c.type === 'Ready')?.reason !== 'Available') return undefined;
  const { management, problems } = managementFrom(metadata.annotations);
  if (problems.length || management.policy !== 'Full' || management.paused) return undefined;
  const fullSpec = item.spec ?? {};
  if (specProblems(definition.kind, fullSpec)) return undefined;
  const ref = { kind: definition.kind, namespace: metadata.namespace ?? 'default', name: metadata.name };
  const awsID = recordedID(definition, status) ?? management.adoptionID;
  return {
    item,
    ref,
    request: {
      ref,
      uid: metadata.uid,
      // As loadResource hands it to the workflow: inline secrets stay in the object.
      spec: withoutSecretFields(fullSpec, definition.secretFields),
      ...(awsID ? { awsID } : {}),
    },
    ...(management.adoption ? { adoption: management.adoption } : {}),
  };
}

/** Resources sharing one provider session: an AWSProvider is its own, others by provider and their namespace. */
function sessionKey(candidate: Candidate): string {
  if (candidate.ref.kind === 'AWSProvider') return workflowIdFor(candidate.ref);
  const provider = providerReference(candidate.request.spec as { providerRef: { name: string; namespace?: string } }, candidate.ref.namespace);
  return `${workflowIdFor(provider)}|${candidate.ref.namespace}`;
}

/** Status fields observe reports that the object's status does not hold (yet): a pass would write them. */
function movedFields(observed: Observation, status: Record<string, unknown> | undefined): string[] {
  return Object.entries(observed.status)
    .filter(([field, value]) => JSON.stringify(status?.[field]) !== JSON.stringify(value))
    .map(([field]) => field);
}

/** What a pass of the resource's workflow would act on, or undefined when it would find nothing to do. */
export function driftOf(candidate: Candidate, outcome: BulkObservation): DriftFound | undefined {
  if ('unlisted' in outcome) return { differences: [], unlisted: true };
  if ('error' in outcome) return undefined;
  const observed = outcome.observed;
  const decision = decide({
    deleting: false,
    deletionPolicy: 'Delete',
    managementPolicy: 'Full',
    ...(candidate.adoption ? { adoption: candidate.adoption } : {}),
    ...(candidate.request.awsID ? { recordedID: candidate.request.awsID } : {}),
    observed,
  });
  if (decision.action !== Action.InSync) {
    const differences = observed.differences.length ? observed.differences : [decision.reason];
    return { differences: differences.slice(0, MAX_SIGNALLED_DIFFERENCES), unlisted: false };
  }
  const moved = movedFields(observed, candidate.item.status);
  return moved.length ? { differences: [`status: ${moved.join(', ')} changed`], unlisted: false } : undefined;
}

/** Reads each referenced object once per pass. */
function onceEach(clients: KubeClients): ReferenceReader {
  const reads = new Map<string, ReturnType<ReferenceReader>>();
  return (ref) => {
    const key = workflowIdFor(ref);
    let read = reads.get(key);
    if (!read) {
      read = readCustomResource<unknown, Record<string, unknown>>(clients, ref);
      reads.set(key, read);
    }
    return read;
  };
}

/** One SDK client per class for a whole provider session. */
function clientsOf(config: AwsClientConfig): NonNullable<SharedLookups['client']> {
  const made = new Map<unknown, unknown>();
  return <C>(clientClass: new (config: AwsClientConfig) => C): C => {
    if (!made.has(clientClass)) made.set(clientClass, new clientClass(config));
    return made.get(clientClass) as C;
  };
}

/** A failure that says the resource waits for something the watcher announces: its own workflow hears of it. */
function isWait(error: unknown): boolean {
  return error instanceof ApplicationFailure && (error.type === FailureType.ProviderNotReady || error.type === FailureType.DependencyNotReady);
}

/** Sweeps one kind: see the module comment. */
export async function sweepKind(options: SweepOptions, kind: string): Promise<SweepReport> {
  const heartbeat = options.heartbeat ?? (() => Context.current().heartbeat());
  const definition = kindDefinition(kind);
  const listed = (await options.clients.custom.listClusterCustomObject({
    group: API_GROUP,
    version: API_VERSION,
    plural: definition.plural,
  })) as { items?: Item[] };
  const items = listed.items ?? [];
  const candidates = items.map((item) => candidateOf(definition, item)).filter((candidate) => candidate !== undefined);
  const report: SweepReport = { kind, resources: items.length, checked: 0, woken: 0, failed: 0, reads: 0 };
  // Loaded only for a kind in use: a handler module brings its SDK client, tens of MiB.
  if (!candidates.length) return report;
  const handler: RegisteredHandler = await handlerFor(kind);

  const groups = new Map<string, Candidate[]>();
  for (const candidate of candidates) {
    const key = sessionKey(candidate);
    groups.set(key, [...(groups.get(key) ?? []), candidate]);
  }
  const read = onceEach(options.clients);
  const drifted: Array<[Candidate, DriftFound]> = [];
  for (const group of groups.values()) {
    heartbeat();
    const [first] = group;
    if (!first) continue;
    let contexts: AwsContext[];
    try {
      const session = await providerSession(options.clients, options.settings, first.request);
      const shared: SharedLookups = { read, client: clientsOf(session.config) };
      contexts = group.map((candidate) => contextIn(options.clients, options.settings, session, candidate.request, heartbeat, shared));
    } catch (error) {
      // A provider not Ready: the watcher wakes its users when it changes.
      report.failed += group.length;
      if (!isWait(error)) log.warn('drift sweep: provider unusable', { kind, provider: sessionKey(first), error: String(error) });
      continue;
    }
    let outcomes: BulkObservation[];
    try {
      if (handler.observeMany) {
        outcomes = await handler.observeMany(group.map((candidate, index) => ({ context: contexts[index], desired: candidate.request.spec })));
        report.reads += 1;
      } else {
        const each = group.map((candidate, index) => ({ context: contexts[index], desired: candidate.request.spec }));
        outcomes = await mapBounded(each, options.concurrency, async ({ context, desired }): Promise<BulkObservation> => {
          try {
            return { observed: await handler.observe(context, desired) };
          } catch (error) {
            return { error };
          }
        });
        report.reads += group.length;
      }
    } catch (error) {
      report.failed += group.length;
      log.warn('drift sweep: bulk read failed', { kind, provider: sessionKey(first), error: String(error) });
      continue;
    }
    group.forEach((candidate, index) => {
      const outcome = outcomes[index] ?? { error: new Error('no answer') };
      if ('error' in outcome) {
        report.failed += 1;
        if (!isWait(outcome.error)) {
          log.warn('drift sweep: resource not judged', { kind, workflowId: workflowIdFor(candidate.ref), error: String(outcome.error) });
        }
        return;
      }
      report.checked += 1;
      const drift = driftOf(candidate, outcome);
      if (drift) drifted.push([candidate, drift]);
    });
  }
  await mapBounded(drifted, options.concurrency, async ([candidate, drift]) => {
    heartbeat();
    try {
      await options.wake(candidate.ref, drift);
      report.woken += 1;
    } catch (error) {
      report.failed += 1;
      log.warn('drift sweep: wake failed', { kind, workflowId: workflowIdFor(candidate.ref), error: String(error) });
    }
  });
  return report;
}

/** The sweep activity the worker registers. */
export function sweepActivities(options: SweepOptions): SweepActivities {
  return {
    async sweepDrift(kinds) {
      // Kinds are independent: one failing (its list refused, say) leaves the others' reports.
      return Promise.all(
        kinds.map(async (kind): Promise<SweepReport> => {
          try {
            const report = await sweepKind(options, kind);
            if (report.woken || report.failed) log.info('drift sweep', { ...report });
            return report;
          } catch (error) {
            log.warn('drift sweep: kind failed', { kind, error: String(error) });
            return { kind, resources: 0, checked: 0, woken: 0, failed: 1, reads: 0 };
          }
        }),
      );
    },
  };
}
