/**
 * Leader election among watcher replicas on a coordination.k8s.io/v1 Lease,
 * the way client-go's leaderelection does it: the holder renews the Lease
 * every `renewMs`; a standby tries every `retryMs` and takes the Lease once
 * it has seen no renewal for `durationMs` by its own clock (so the two
 * clocks need not agree); a holder that could not renew for
 * `renewDeadlineMs` (< `durationMs`) stops leading before anyone else may
 * start. Every write is a replace guarded by the Lease's resourceVersion,
 * so two standbys cannot both take it.
 *
 * The holder identity is `<POD_NAME or hostname>_<pid>`. A holder of this
 * same pod (or host) whose process is gone, a watcher killed and started
 * again, is taken over at once rather than after the Lease runs out.
 *
 * The Lease is read and written through the CustomObjectsApi, which takes
 * any group: the same client, and so the same keep-alive connection, as
 * every other request of the process.
 */
import os from 'node:os';
import type { KubeClients } from '../kube/client.js';
import { httpStatus } from '../kube/client.js';
import { log } from '../process/log.js';

const LEASE_GROUP = 'coordination.k8s.io';
const LEASE_VERSION = 'v1';
const LEASES = 'leases';

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
  spec?: LeaseSpec;
}

export interface LeaseOptions {
  namespace: string;
  name: string;
  /** Who holds it: unique per process (see `holderIdentity`). */
  identity: string;
  /** How long a Lease not renewed stays its holder's: 15 s. */
  durationMs?: number;
  /** How often the holder renews: 5 s. */
  renewMs?: number;
  /** How often a standby tries: 1 s. */
  retryMs?: number;
  /** A holder that has not renewed for this long stops leading: 10 s. */
  renewDeadlineMs?: number;
}

export interface LeadershipHandler {
  /** This process now holds the Lease: start dispatching. */
  started(): void;
  /** This process no longer holds it (or cannot tell): stop dispatching at once. */
  stopped(): void;
}

/** `<POD_NAME or hostname>_<pid>`. */
export function holderIdentity(podName: string | undefined = process.env.POD_NAME): string {
  return `${podName?.trim() || os.hostname()}_${process.pid}`;
}

/** Kubernetes MicroTime: RFC 3339 with six fractional digits. */
export function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/**
 * True when `holder` names a process of the same pod or host as `self` that
 * no longer runs: it cannot renew, so waiting out its Lease gains nothing.
 */
export function holderIsGone(holder: string, self: string): boolean {
  const split = (identity: string) => {
    const at = identity.lastIndexOf('_');
    return at < 0 ? undefined : { host: identity.slice(0, at), pid: Number(identity.slice(at + 1)) };
  };
  const them = split(holder);
  const us = split(self);
  if (!them || !us || them.host !== us.host || !Number.isInteger(them.pid) || them.pid <= 0) return false;
  if (them.pid === us.pid) return false;
  try {
    process.kill(them.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

export class LeaderElection {
  private leading = false;
  private stopping = false;
  private wakeUp: (() => void) | undefined;
  /** The Lease as last seen, and when (by this process's clock) it last changed. */
  private observed: { record: string; at: number } | undefined;
  private lastRenewed = 0;
  /** The last attempt reached the API server (for readiness). */
  reachable = false;
  private readonly durationMs: number;
  private readonly renewMs: number;
  private readonly retryMs: number;
  private readonly renewDeadlineMs: number;

  constructor(
    private readonly clients: KubeClients,
    private readonly options: LeaseOptions,
    private readonly handler: LeadershipHandler,
  ) {
    this.durationMs = options.durationMs ?? 15_000;
    this.renewMs = options.renewMs ?? 5_000;
    this.retryMs = options.retryMs ?? 1_000;
    this.renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    if (!(this.renewMs < this.renewDeadlineMs && this.renewDeadlineMs < this.durationMs)) {
      throw new Error(`lease timings must satisfy renew (${this.renewMs} ms) < renew deadline (${this.renewDeadlineMs} ms) < duration (${this.durationMs} ms)`);
    }
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** Tries, renews and hands over until `stop()`. */
  async run(): Promise<void> {
    while (!this.stopping) {
      let held: boolean;
      try {
        held = await this.withinDeadline(this.tryAcquireOrRenew());
        this.reachable = true;
      } catch (error) {
        this.reachable = false;
        held = this.leading && Date.now() - this.lastRenewed < this.renewDeadlineMs;
        log.warn('lease not renewed', { lease: this.leaseName(), error: String(error), leading: this.leading });
      }
      if (this.stopping) break;
      if (held && !this.leading) {
        this.leading = true;
        log.info('leading: this watcher dispatches signals', { lease: this.leaseName(), identity: this.options.identity });
        this.handler.started();
      } else if (!held && this.leading) {
        this.leading = false;
        log.warn('stopped leading: another watcher holds the lease, or it could not be renewed', { lease: this.leaseName() });
        this.handler.stopped();
      }
      await this.sleep(this.leading ? this.renewMs : this.retryMs);
    }
  }

  /** Stops trying; a holder gives the Lease up, so a standby takes over at once. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wakeUp?.();
    if (!this.leading) return;
    this.leading = false;
    this.handler.stopped();
    try {
      const lease = await this.read();
      if (lease?.spec?.holderIdentity !== this.options.identity) return;
      // As client-go releases: no holder, and a Lease that has run out.
      await this.replace({
        ...lease,
        spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(new Date()) },
      });
      log.info('lease released', { lease: this.leaseName() });
    } catch (error) {
      log.warn('lease not released; a standby takes over when it runs out', { lease: this.leaseName(), error: String(error) });
    }
  }

  /**
   * An API server that takes a request and never answers must not keep a
   * leader leading past its renew deadline: each attempt gets what is left
   * of it after one renew interval.
   */
  private async withinDeadline<T>(attempt: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('the API server did not answer in time')), this.renewDeadlineMs - this.renewMs);
    });
    try {
      return await Promise.race([attempt, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private leaseName(): string {
    return `${this.options.namespace}/${this.options.name}`;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wakeUp = undefined;
        resolve();
      }, ms);
      this.wakeUp = () => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        resolve();
      };
    });
  }

  /** One attempt; true when this process holds the Lease after it. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = new Date();
    const lease = await this.read();
    const me = this.options.identity;
    const durationSeconds = Math.ceil(this.durationMs / 1000);
    if (!lease) {
      const created = await this.create({
        apiVersion: `${LEASE_GROUP}/${LEASE_VERSION}`,
        kind: 'Lease',
        metadata: { name: this.options.name, namespace: this.options.namespace },
        spec: { holderIdentity: me, leaseDurationSeconds: durationSeconds, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 },
      });
      if (created) this.lastRenewed = Date.now();
      return created;
    }
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const record = JSON.stringify([holder, spec.renewTime, spec.leaseDurationSeconds, lease.metadata?.resourceVersion]);
    if (this.observed?.record !== record) this.observed = { record, at: Date.now() };
    if (holder !== '' && holder !== me) {
      const heldFor = (spec.leaseDurationSeconds ?? durationSeconds) * 1000;
      const runOut = Date.now() - this.observed.at >= heldFor;
      if (!runOut && !holderIsGone(holder, me)) return false;
      log.info('taking over the lease', { lease: this.leaseName(), from: holder, reason: runOut ? 'not renewed' : 'holder process gone' });
    }
    const taking = holder !== me;
    const replaced = await this.replace({
      ...lease,
      spec: {
        ...spec,
        holderIdentity: me,
        leaseDurationSeconds: durationSeconds,
        renewTime: microTime(now),
        ...(taking ? { acquireTime: microTime(now), leaseTransitions: (spec.leaseTransitions ?? 0) + (holder === '' ? 0 : 1) } : {}),
      },
    });
    if (replaced) this.lastRenewed = Date.now();
    return replaced;
  }

  private async read(): Promise<Lease | null> {
    try {
      return (await this.clients.custom.getNamespacedCustomObject({
        group: LEASE_GROUP,
        version: LEASE_VERSION,
        namespace: this.options.namespace,
        plural: LEASES,
        name: this.options.name,
      })) as Lease;
    } catch (error) {
      if (httpStatus(error) === 404) return null;
      throw error;
    }
  }

  /** False when another watcher created it first. */
  private async create(lease: Lease): Promise<boolean> {
    try {
      await this.clients.custom.createNamespacedCustomObject({
        group: LEASE_GROUP,
        version: LEASE_VERSION,
        namespace: this.options.namespace,
        plural: LEASES,
        body: lease,
      });
      return true;
    } catch (error) {
      if (httpStatus(error) === 409) return false;
      throw error;
    }
  }

  /** False when the Lease changed since it was read (another watcher wrote it). */
  private async replace(lease: Lease): Promise<boolean> {
    try {
      await this.clients.custom.replaceNamespacedCustomObject({
        group: LEASE_GROUP,
        version: LEASE_VERSION,
        namespace: this.options.namespace,
        plural: LEASES,
        name: this.options.name,
        body: lease,
      });
      return true;
    } catch (error) {
      if (httpStatus(error) === 409) return false;
      throw error;
    }
  }
}
