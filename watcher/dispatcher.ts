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
 *
 * Calls go through a bounded queue: at most `maxInFlight` at once (a first
 * list of 1,000 objects must not open 1,000 calls to Temporal), one at a time
 * per workflow, the newest change per resource replacing an older one still
 * queued, and in priority lanes (`Lane`) so that a real change is never stuck
 * behind the confirmations of a first list.
 */
import type { ObjectRef } from '../contract/identity.js';
import { workflowIdFor } from '../contract/identity.js';
import type { ResourceChange } from '../workflows/messages.js';
import type { WatchedObject } from './resource-watch.js';

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

/** Calls to Temporal in flight at once when `MAX_INFLIGHT_SIGNALS` is not set. */
export const DEFAULT_MAX_INFLIGHT_SIGNALS = 16;

export interface DispatcherOptions {
  /** At most this many gateway calls at once (`MAX_INFLIGHT_SIGNALS`). */
  maxInFlight?: number;
}

/**
 * `MAX_INFLIGHT_SIGNALS` from the environment: a positive integer, or the
 * default when unset or empty.
 */
export function parseMaxInFlight(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === '') return DEFAULT_MAX_INFLIGHT_SIGNALS;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) {
    throw new Error(`MAX_INFLIGHT_SIGNALS must be a positive integer, got ${JSON.stringify(raw)}; unset it for ${DEFAULT_MAX_INFLIGHT_SIGNALS}`);
  }
  return value;
}

/** Priority lanes of the queue, most urgent first. */
export const Lane = {
  /** A new object (seen through the watch), a spec, annotation or deletion change, a removal. */
  change: 0,
  /** A dependency's status changed: wake its dependents. */
  dependency: 1,
  /**
   * An object on the first list with nothing known of it before: after a
   * restart nearly all are unchanged, and their workflows run already.
   */
  confirmation: 2,
} as const;
export type Lane = (typeof Lane)[keyof typeof Lane];

type Job =
  | { type: 'resource'; lane: Lane; ref: ObjectRef; change: ResourceChange; start: boolean }
  | { type: 'dependency'; lane: Lane; target: ObjectRef; changed: ObjectRef };

/** Queue, in-flight and peak counts, for tests, the benchmark and logs. */
export interface SignalStats {
  queued: number;
  inFlight: number;
  /** The most calls in flight at once so far. */
  peakInFlight: number;
}

function controls(annotations: Record<string, string>): string {
  return JSON.stringify(Object.entries(annotations).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export class Dispatcher {
  private readonly seen = new Map<string, WatchedObject>();
  /** dependency workflow ID → workflow IDs (and refs) of resources that refer to it. */
  private readonly dependents = new Map<string, Map<string, ObjectRef>>();
  /** workflow ID → the resources it refers to, to un-index on change and to wake them on removal. */
  private readonly dependenciesOf = new Map<string, ObjectRef[]>();
  private readonly listedOnce = new Set<string>();
  /** Resource signals that failed, newest per resource; `retryFailed` queues them again. */
  private readonly failed = new Map<string, Job>();
  /** One map per `Lane`, job key → job, in the order they were first queued. */
  private readonly lanes: Map<string, Job>[] = [new Map<string, Job>(), new Map<string, Job>(), new Map<string, Job>()];
  /** Keys of the calls in flight; a key is never in flight twice, so one workflow's signals stay in order. */
  private readonly inFlight = new Set<string>();
  private peakInFlight = 0;
  private readonly maxInFlight: number;

  constructor(
    private readonly gateway: WorkflowGateway,
    /** A failed call; `ref` names the resource it was for, so the log line carries its fields. */
    private readonly onError: (message: string, error: unknown, ref?: ObjectRef) => void,
    options: DispatcherOptions = {},
  ) {
    this.maxInFlight = options.maxInFlight ?? DEFAULT_MAX_INFLIGHT_SIGNALS;
    if (!Number.isInteger(this.maxInFlight) || this.maxInFlight <= 0) {
      throw new Error(`maxInFlight must be a positive integer, got ${this.maxInFlight}`);
    }
  }

  /** An object was added or changed; `listed` when it came from a (re-)list. */
  upsert(object: WatchedObject, listed: boolean): void {
    const { ref } = object;
    const id = workflowIdFor(ref);
    const before = this.seen.get(id);
    this.seen.set(id, object);
    this.index(ref, object.references);

    // An object first seen through a watch event was signalled as new
    // already; its first listing after that is no news.
    const firstList = listed && !this.listedOnce.has(id);
    this.listedOnce.add(id);
    const specChanged =
      !before ||
      before.uid !== object.uid ||
      before.generation !== object.generation ||
      before.deleting !== object.deleting ||
      controls(before.annotations) !== controls(object.annotations);
    if (specChanged || firstList) {
      // Listed with nothing known before: a (re)started watcher confirming
      // what its workflows mostly know already. Anything else is news.
      const lane = listed && !before ? Lane.confirmation : Lane.change;
      this.signal(ref, { uid: object.uid, generation: object.generation, deleting: object.deleting }, true, lane);
    }
    if (before && before.statusFingerprint !== object.statusFingerprint) this.wakeDependents(ref);
  }

  /** An object is gone from the API. */
  remove(object: WatchedObject): void {
    const { ref } = object;
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
    if (before) this.signal(ref, { uid: before.uid, generation: before.generation, deleting: true }, false, Lane.change);
    this.wakeDependents(ref);
  }

  /** Queues again the signals that failed (Temporal briefly unreachable). */
  retryFailed(): void {
    const pending = [...this.failed.entries()];
    this.failed.clear();
    for (const [key, job] of pending) this.enqueue(key, job);
  }

  /** Failed signals waiting for `retryFailed`. */
  pendingRetries(): number {
    return this.failed.size;
  }

  /** Queued, in-flight and peak in-flight counts of the signal queue. */
  signalStats(): SignalStats {
    return {
      queued: this.lanes.reduce((sum, lane) => sum + lane.size, 0),
      inFlight: this.inFlight.size,
      peakInFlight: this.peakInFlight,
    };
  }

  private signal(ref: ObjectRef, change: ResourceChange, start: boolean, lane: Lane): void {
    this.enqueue(workflowIdFor(ref), { type: 'resource', lane, ref, change, start });
  }

  private notify(target: ObjectRef, changed: ObjectRef): void {
    // Workflow IDs hold no space, so these keys never meet a resource's.
    this.enqueue(`dependency ${workflowIdFor(target)} ${workflowIdFor(changed)}`, {
      type: 'dependency',
      lane: Lane.dependency,
      target,
      changed,
    });
  }

  /**
   * Queues a job. One already queued under the same key is replaced: in its
   * place when its lane is as urgent, else at the end of the new, more
   * urgent lane.
   */
  private enqueue(key: string, job: Job): void {
    // A newer signal makes an older failed one moot.
    if (job.type === 'resource') this.failed.delete(key);
    for (const [index, queued] of this.lanes.entries()) {
      if (!queued.has(key)) continue;
      if (index <= job.lane) {
        queued.set(key, { ...job, lane: index as Lane });
        return;
      }
      queued.delete(key);
    }
    this.lanes[job.lane].set(key, job);
    this.pump();
  }

  /** Starts queued calls, most urgent lane first, while fewer than `maxInFlight` run. */
  private pump(): void {
    while (this.inFlight.size < this.maxInFlight) {
      const next = this.takeNext();
      if (!next) return;
      this.send(next.key, next.job);
    }
  }

  private takeNext(): { key: string; job: Job } | undefined {
    for (const queued of this.lanes) {
      for (const [key, job] of queued) {
        // Its previous call is still out: wait, so that the two cannot arrive swapped.
        if (this.inFlight.has(key)) continue;
        queued.delete(key);
        return { key, job };
      }
    }
    return undefined;
  }

  private send(key: string, job: Job): void {
    this.inFlight.add(key);
    this.peakInFlight = Math.max(this.peakInFlight, this.inFlight.size);
    // Async, so that a gateway that throws rather than rejects is handled the same; the call starts now.
    const call = async () =>
      job.type === 'resource'
        ? this.gateway.resourceChanged(job.ref, job.change, job.start)
        : this.gateway.dependencyChanged(job.target, job.changed);
    call()
      .catch((error: unknown) => {
        if (job.type === 'resource') {
          // Keep only the newest change per resource: one queued since wins.
          if (!this.isQueued(key)) this.failed.set(key, job);
          this.onError(`signal to ${key} failed`, error, job.ref);
        } else {
          this.onError(`dependency signal to ${workflowIdFor(job.target)} failed`, error, job.target);
        }
      })
      .finally(() => {
        this.inFlight.delete(key);
        this.pump();
      })
      .catch((error: unknown) => this.onError('signal queue failed', error));
  }

  private isQueued(key: string): boolean {
    return this.lanes.some((queued) => queued.has(key));
  }

  private wakeDependents(dependency: ObjectRef): void {
    for (const dependent of this.dependents.get(workflowIdFor(dependency))?.values() ?? []) this.notify(dependent, dependency);
  }

  private index(ref: ObjectRef, references: ObjectRef[]): void {
    const id = workflowIdFor(ref);
    this.unindex(id);
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
