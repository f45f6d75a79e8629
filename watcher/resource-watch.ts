/**
 * List-then-watch of one kind across all namespaces, hardened against the
 * ways client-node's informer loses events: it restarts the watch after any
 * error or close, re-lists on 410 Gone, aborts a watch that has gone quiet
 * (bookmarks are requested, so silence means a dead stream) and re-lists on
 * a timer. Every list is diffed against the cache, so whatever changed while
 * no watch was open is still delivered.
 *
 * It keeps of each object only a `WatchedObject`, a few hundred bytes, not the
 * object (about 25 KiB with its managedFields): at 1,000 objects per kind the
 * difference is what decides the watcher's memory.
 */
import { Annotations, type ObjectRef } from '../contract/identity.js';
import { API_GROUP, API_VERSION, type KindDefinition } from '../crds/index.js';
import { kubeWatch, type CustomResource, type KubeClients } from '../kube/client.js';
import { log } from '../process/log.js';

/**
 * What the watch keeps of one object, and all the Dispatcher reads: enough
 * to tell a spec, deletion, annotation or status change from a metadata-only
 * update, and whom the object refers to.
 */
export interface WatchedObject {
  ref: ObjectRef;
  uid: string;
  resourceVersion: string;
  generation: number;
  /** A deletion has been requested (`deletionTimestamp` is set). */
  deleting: boolean;
  /** Only the operator's annotations (`Annotations`): the only metadata the workflow acts on. */
  annotations: Record<string, string>;
  /** The status without `lastSyncTime` and condition times: what dependents care about. */
  statusFingerprint: string;
  /** The custom resources the spec refers to (`KindDefinition.references`). */
  references: ObjectRef[];
}

const OPERATOR_ANNOTATIONS: readonly string[] = Object.values(Annotations);

/** The `WatchedObject` of a custom resource of `definition`'s kind. */
export function watchedObject(definition: KindDefinition, object: CustomResource): WatchedObject {
  const metadata = object.metadata ?? {};
  const ref = { kind: definition.kind, namespace: metadata.namespace ?? 'default', name: metadata.name ?? '' };
  const annotations: Record<string, string> = {};
  for (const key of OPERATOR_ANNOTATIONS) {
    const value = metadata.annotations?.[key];
    if (value !== undefined) annotations[key] = value;
  }
  let references: ObjectRef[] = [];
  try {
    references = definition.references(object.spec, ref.namespace);
  } catch {
    // A spec too broken to read references from; the workflow reports it.
  }
  return {
    ref,
    uid: metadata.uid ?? '',
    resourceVersion: metadata.resourceVersion ?? '',
    generation: metadata.generation ?? 0,
    deleting: Boolean(metadata.deletionTimestamp),
    annotations,
    statusFingerprint: statusFingerprint(object.status),
    references,
  };
}

/** The status as JSON without the times that change on every resync, so that only a real change shows. */
export function statusFingerprint(status: Record<string, unknown> | undefined): string {
  if (!status) return '';
  const { lastSyncTime: _ignored, conditions, ...rest } = status as { lastSyncTime?: unknown; conditions?: unknown };
  const stable = Array.isArray(conditions)
    ? conditions.map((c: Record<string, unknown>) => ({ type: c.type, status: c.status, reason: c.reason }))
    : undefined;
  return JSON.stringify({ ...rest, conditions: stable });
}

export interface WatchTimings {
  /** Abort a watch that delivered nothing (not even a bookmark) for this long. */
  watchdogMs: number;
  /** Re-list this often even if the watch looks healthy. */
  relistMs: number;
  /** Longest pause between attempts after errors. */
  maxBackoffMs: number;
}

export interface WatchHandler {
  /** An object was added or changed; `listed` when it came from a (re-)list rather than the watch. */
  upsert(object: WatchedObject, listed: boolean): void;
  /** An object is gone from the API. */
  remove(object: WatchedObject): void;
}

type WatchEnd = 'closed' | 'error' | 'gone' | 'stalled' | 'relist' | 'stopped';

interface WatchResult {
  outcome: WatchEnd;
  /** Where the next watch resumes (the last event's or bookmark's). */
  resourceVersion: string;
  /** Events and bookmarks received. */
  events: number;
  durationMs: number;
}

/**
 * Objects per list page: client-go's pager's default. A page of SQSQueues
 * (about 1.5 KiB each with managedFields) is under 1 MiB of JSON.
 */
export const LIST_PAGE_SIZE = 500;

/**
 * Attempts at one list, the first and its restarts after expired continue
 * tokens, before it counts as failed (and run() backs off): a list slower
 * than etcd's compaction interval (5 minutes) would otherwise restart forever.
 */
const MAX_LIST_RESTARTS = 3;

/** The API server's answer to a continue token older than etcd's compaction: 410 Gone, reason Expired. */
function isExpiredContinue(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === 410;
}

/** A watch closed sooner than this with nothing delivered counts as a failure, for backoff. */
const MIN_HEALTHY_WATCH_MS = 1000;

const keyOf = (object: WatchedObject) => `${object.ref.namespace}/${object.ref.name}`;

export class ResourceWatch {
  private readonly cache = new Map<string, WatchedObject>();
  private stopped = false;
  private abortCurrent: (() => void) | undefined;
  /** Number of completed lists; tests and the benchmark read it. */
  lists = 0;

  constructor(
    private readonly clients: KubeClients,
    private readonly definition: KindDefinition,
    private readonly handler: WatchHandler,
    private readonly timings: WatchTimings,
  ) {}

  private get path(): string {
    return `/apis/${API_GROUP}/${API_VERSION}/${this.definition.plural}`;
  }

  /** What the watch keeps of each object, as last seen. */
  cached(): IterableIterator<WatchedObject> {
    return this.cache.values();
  }

  /** Runs until `stop()`. */
  async run(): Promise<void> {
    let failures = 0;
    let resourceVersion: string | undefined;
    while (!this.stopped) {
      try {
        if (!resourceVersion) resourceVersion = await this.list();
        // stop() during the list had no watch to abort: do not open one.
        if (this.stopped) break;
        const end = await this.watchFrom(resourceVersion);
        resourceVersion = end.resourceVersion;
        // A server (or a proxy in front of it) that ends every watch at once
        // would otherwise be asked again in a tight loop.
        const emptyClose = end.outcome === 'closed' && end.events === 0 && end.durationMs < MIN_HEALTHY_WATCH_MS;
        failures = end.outcome === 'error' || emptyClose ? failures + 1 : 0;
        // Anything but a clean server-side close may have lost events: re-list.
        if (end.outcome !== 'closed') resourceVersion = undefined;
        if (end.outcome === 'error' || end.outcome === 'stalled') {
          log.warn('watch ended; re-listing', { kind: this.definition.kind, outcome: end.outcome });
        }
      } catch (error) {
        failures++;
        resourceVersion = undefined;
        log.warn('list failed', { kind: this.definition.kind, error: String(error) });
      }
      if (failures > 0 && !this.stopped) {
        await sleep(Math.min(500 * 2 ** Math.min(failures - 1, 10), this.timings.maxBackoffMs));
      }
    }
  }

  stop(): void {
    this.stopped = true;
    this.abortCurrent?.();
  }

  /**
   * Lists every object in pages of `LIST_PAGE_SIZE`, delivers differences
   * against the cache, returns the list's resourceVersion. Pages, because
   * one list of 10,000 objects is a body of tens of MiB parsed at once: V8
   * grows its heap for that peak and keeps it. A continue token that expired
   * (410) restarts the list: its pages belong to one snapshot, and a snapshot
   * mixed with a newer one could miss a deletion.
   */
  private async list(): Promise<string> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.listPages();
      } catch (error) {
        if (!isExpiredContinue(error) || attempt >= MAX_LIST_RESTARTS || this.stopped) throw error;
        log.info('list continue token expired; listing again from the start', { kind: this.definition.kind, attempt });
      }
    }
  }

  private async listPages(): Promise<string> {
    const seen = new Set<string>();
    let continueToken: string | undefined;
    let resourceVersion = '';
    do {
      const page = (await this.clients.custom.listClusterCustomObject({
        group: API_GROUP,
        version: API_VERSION,
        plural: this.definition.plural,
        limit: LIST_PAGE_SIZE,
        _continue: continueToken,
      })) as { items: CustomResource[]; metadata?: { resourceVersion?: string; continue?: string } };
      for (const item of page.items) {
        const object = watchedObject(this.definition, item);
        const key = keyOf(object);
        seen.add(key);
        this.cache.set(key, object);
        this.handler.upsert(object, true);
      }
      // Every page carries the snapshot's resourceVersion; the watch starts from it.
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
      continueToken = page.metadata?.continue || undefined;
    } while (continueToken !== undefined && !this.stopped);
    // A list cut short by stop() has not seen everything: deleting what it missed would be wrong.
    if (this.stopped) return resourceVersion;
    for (const [key, object] of this.cache) {
      if (!seen.has(key)) {
        this.cache.delete(key);
        this.handler.remove(object);
      }
    }
    this.lists++;
    return resourceVersion;
  }

  private watchFrom(startVersion: string): Promise<WatchResult> {
    return new Promise((resolve) => {
      let resourceVersion = startVersion;
      const started = Date.now();
      let events = 0;
      let lastEvent = started;
      let settled = false;
      let controller: AbortController | undefined;
      const finish = (outcome: WatchEnd) => {
        if (settled) return;
        settled = true;
        clearInterval(watchdog);
        clearTimeout(relist);
        this.abortCurrent = undefined;
        controller?.abort();
        resolve({ outcome, resourceVersion, events, durationMs: Date.now() - started });
      };
      const watchdog = setInterval(() => {
        if (Date.now() - lastEvent > this.timings.watchdogMs) finish('stalled');
      }, Math.max(100, Math.min(this.timings.watchdogMs / 4, 5000)));
      const relist = setTimeout(() => finish('relist'), this.timings.relistMs);
      this.abortCurrent = () => finish('stopped');

      kubeWatch(
        this.clients.config,
        this.path,
        { resourceVersion, allowWatchBookmarks: true },
        (phase: string, object: CustomResource & { code?: number }) => {
          lastEvent = Date.now();
          events++;
          if (phase === 'ERROR') {
            finish(object.code === 410 ? 'gone' : 'error');
            return;
          }
          resourceVersion = object.metadata?.resourceVersion ?? resourceVersion;
          if (phase === 'BOOKMARK') return;
          const watched = watchedObject(this.definition, object);
          if (phase === 'DELETED') {
            this.cache.delete(keyOf(watched));
            this.handler.remove(watched);
          } else {
            this.cache.set(keyOf(watched), watched);
            this.handler.upsert(watched, false);
          }
        },
        (error: unknown) => finish(error ? 'error' : 'closed'),
      ).then(
        (abort) => {
          controller = abort;
          if (settled) abort.abort();
        },
        () => finish('error'),
      );
    });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
