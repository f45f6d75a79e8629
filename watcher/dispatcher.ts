/**
 * Turns what the watches see into Temporal calls:
 * - a new object, a new generation, a deletion request, or any object on the
 *   first list → `signalWithStart` of that object's reconcile workflow;
 * - a status change of an object others refer to → `dependencyChanged` to
 *   each of them, so a resource waiting on its provider proceeds at once;
 * - a change of the annotations of ours (adoption, management policy,
 *   pause) → `signalWithStart` too: they change what the workflow does;
 * - other status-only and metadata-only updates of the object itself →
 *   nothing, so the workflow's own status patches never loop back into it.
 */
import type { CustomResource } from '../kube/client.js';
import { kindDefinition } from '../crds/index.js';
import type { ObjectRef } from '../contract/identity.js';
import { Annotations, workflowIdFor } from '../contract/identity.js';
import type { ResourceChange } from '../workflows/messages.js';

/** The Temporal side of the watcher, small so it can be faked in tests. */
export interface WorkflowGateway {
  /**
   * Signals the resource's workflow; with `start`, starts it when none runs.
   * Without `start`, a workflow that is not running is not an error.
   */
  resourceChanged(ref: ObjectRef, change: ResourceChange, start: boolean): Promise<void>;
  /** Signals a running workflow that a dependency changed; no-op when none runs. */
  dependencyChanged(dependent: ObjectRef, dependency: ObjectRef): Promise<void>;
}

interface Seen {
  uid: string;
  generation: number;
  deleting: boolean;
  /** The annotations of ours, as JSON: the only metadata the workflow acts on. */
  controls: string;
  /** Status without its timestamps: what dependents care about. */
  statusFingerprint: string;
}

function refOf(kind: string, object: CustomResource): ObjectRef {
  return { kind, namespace: object.metadata?.namespace ?? 'default', name: object.metadata?.name ?? '' };
}

const CONTROL_ANNOTATIONS = Object.values(Annotations);

function controls(annotations: Record<string, string> | undefined): string {
  return JSON.stringify(CONTROL_ANNOTATIONS.map((key) => annotations?.[key] ?? null));
}

function fingerprint(status: Record<string, unknown> | undefined): string {
  if (!status) return '';
  const { lastSyncTime: _ignored, conditions, ...rest } = status as { lastSyncTime?: unknown; conditions?: unknown };
  const stable = Array.isArray(conditions)
    ? conditions.map((c: Record<string, unknown>) => ({ type: c.type, status: c.status, reason: c.reason }))
    : undefined;
  return JSON.stringify({ ...rest, conditions: stable });
}

export class Dispatcher {
  private readonly seen = new Map<string, Seen>();
  /** dependency workflow ID → workflow IDs (and refs) of resources that refer to it. */
  private readonly dependents = new Map<string, Map<string, ObjectRef>>();
  /** workflow ID → the resources it refers to, to un-index on change and to wake them on removal. */
  private readonly dependenciesOf = new Map<string, ObjectRef[]>();
  private readonly listedOnce = new Set<string>();
  /** Signals that failed and are retried by `retryFailed`. */
  private readonly failed = new Map<string, { ref: ObjectRef; change: ResourceChange; start: boolean }>();

  constructor(
    private readonly gateway: WorkflowGateway,
    private readonly onError: (message: string, error: unknown) => void,
  ) {}

  upsert(kind: string, object: CustomResource, listed: boolean): void {
    const ref = refOf(kind, object);
    const id = workflowIdFor(ref);
    const metadata = object.metadata ?? {};
    const now: Seen = {
      uid: metadata.uid ?? '',
      generation: metadata.generation ?? 0,
      deleting: Boolean(metadata.deletionTimestamp),
      controls: controls(metadata.annotations),
      statusFingerprint: fingerprint(object.status),
    };
    const before = this.seen.get(id);
    this.seen.set(id, now);
    this.index(ref, object);

    // An object first seen through a watch event was signalled as new
    // already; its first listing after that is no news.
    const firstList = listed && !this.listedOnce.has(id);
    this.listedOnce.add(id);
    const specChanged =
      !before ||
      before.uid !== now.uid ||
      before.generation !== now.generation ||
      before.deleting !== now.deleting ||
      before.controls !== now.controls;
    if (specChanged || firstList) {
      this.signal(ref, { uid: now.uid, generation: now.generation, deleting: now.deleting });
    }
    if (before && before.statusFingerprint !== now.statusFingerprint) this.wakeDependents(ref);
  }

  remove(kind: string, object: CustomResource): void {
    const ref = refOf(kind, object);
    const id = workflowIdFor(ref);
    const before = this.seen.get(id);
    this.seen.delete(id);
    this.listedOnce.delete(id);
    // What this resource referred to may be waiting for it to go (a VPC
    // cannot be deleted before its subnets): tell them it has.
    for (const dependency of this.dependenciesOf.get(id) ?? []) this.notify(dependency, ref);
    this.unindex(id);
    // The workflow notices on its next load; this makes that happen now.
    // Without start: a completed workflow has nothing left to do for a gone object.
    if (before) this.signal(ref, { uid: before.uid, generation: before.generation, deleting: true }, false);
    this.wakeDependents(ref);
  }

  /** Re-sends signals that failed (Temporal briefly unreachable). */
  retryFailed(): void {
    const pending = [...this.failed.values()];
    this.failed.clear();
    for (const { ref, change, start } of pending) this.signal(ref, change, start);
  }

  pendingRetries(): number {
    return this.failed.size;
  }

  private signal(ref: ObjectRef, change: ResourceChange, start = true): void {
    const id = workflowIdFor(ref);
    this.failed.delete(id);
    this.gateway.resourceChanged(ref, change, start).catch((error: unknown) => {
      // Keep only the newest change per resource; retried by the timer in main.
      this.failed.set(id, { ref, change, start });
      this.onError(`signal to ${id} failed`, error);
    });
  }

  private wakeDependents(dependency: ObjectRef): void {
    for (const dependent of this.dependents.get(workflowIdFor(dependency))?.values() ?? []) this.notify(dependent, dependency);
  }

  private notify(target: ObjectRef, changed: ObjectRef): void {
    this.gateway.dependencyChanged(target, changed).catch((error: unknown) => {
      this.onError(`dependency signal to ${workflowIdFor(target)} failed`, error);
    });
  }

  private index(ref: ObjectRef, object: CustomResource): void {
    const id = workflowIdFor(ref);
    this.unindex(id);
    let references: ObjectRef[] = [];
    try {
      references = kindDefinition(ref.kind).references(object.spec, ref.namespace);
    } catch {
      // A spec too broken to read references from; the workflow reports it.
    }
    this.dependenciesOf.set(id, references);
    for (const key of references.map(workflowIdFor)) {
      const set = this.dependents.get(key) ?? new Map<string, ObjectRef>();
      set.set(id, ref);
      this.dependents.set(key, set);
    }
  }

  private unindex(id: string): void {
    for (const key of (this.dependenciesOf.get(id) ?? []).map(workflowIdFor)) {
      const set = this.dependents.get(key);
      set?.delete(id);
      if (set?.size === 0) this.dependents.delete(key);
    }
    this.dependenciesOf.delete(id);
  }
}
