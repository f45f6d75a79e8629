/**
 * The watcher's part of the operator: one ResourceWatch per kind feeding one
 * Dispatcher, which signals Temporal. Run alone by watcher/main.ts, or
 * beside the worker in one process by operator/main.ts. It holds no state
 * that matters across restarts: its first list signals every object, and
 * the workflows decide what is new.
 *
 * With LEADER_ELECTION (the default) only the replica holding the Lease
 * (leader.ts) watches and signals; a standby only tries for the Lease, and
 * starts its watches fresh when it gets it, so its first list signals
 * everything, as after a restart: nothing the old leader missed is lost.
 */
import type { Client } from '@temporalio/client';
import type { KubeClients } from '../kube/client.js';
import { kinds } from '../crds/index.js';
import type { OperatorConfig } from '../process/config.js';
import type { Check } from '../process/http.js';
import { errorText, log, resourceFields } from '../process/log.js';
import { leader, leaderTransitions, watchEvents } from '../process/metrics.js';
import { Dispatcher, parseMaxInFlight } from './dispatcher.js';
import { LeaderElection, holderIdentity } from './leader.js';
import { ResourceWatch } from './resource-watch.js';
import { temporalGateway, type GatewayOptions } from './temporal-gateway.js';
import type { WorkflowGateway } from './dispatcher.js';

/** One term of dispatching: a Dispatcher and its watches, made fresh each time this watcher starts leading. */
interface Term {
  /** Every kind has been listed once. */
  synced(): boolean;
  stop(): void;
  /** Settles once every watch has stopped. */
  done: Promise<void>;
}

export class WatcherRole {
  private readonly gateway: WorkflowGateway;
  private readonly maxInFlight = parseMaxInFlight(process.env.MAX_INFLIGHT_SIGNALS);
  private readonly election: LeaderElection | undefined;
  private term: Term | undefined;
  private readonly terms: Array<Promise<void>> = [];
  private stopping = false;
  /** Settles once the Lease is given up, so a standby takes over at once. */
  private released: Promise<void> = Promise.resolve();

  constructor(
    private readonly config: OperatorConfig,
    private readonly clients: KubeClients,
    client: Client,
  ) {
    const gatewayOptions: GatewayOptions = {
      taskQueue: config.taskQueue,
      resyncSeconds: config.resyncSeconds,
      terminalRetrySeconds: config.terminalRetrySeconds,
    };
    this.gateway = temporalGateway(client, gatewayOptions);
    this.election = config.leaderElection
      ? new LeaderElection(
          clients,
          { namespace: config.podNamespace, name: config.leaseName, identity: holderIdentity() },
          {
            started: () => {
              leaderTransitions.inc();
              this.beginTerm();
            },
            stopped: () => this.endTerm(),
          },
        )
      : undefined;
  }

  readiness(): Check {
    if (this.election && !this.election.reachable) return { ok: false, detail: 'the API server did not answer the last Lease request' };
    if (!this.term) return { ok: true, detail: 'standing by: another watcher holds the Lease' };
    return this.term.synced() ? { ok: true, detail: 'leading: every kind listed, watching' } : { ok: false, detail: 'listing every kind' };
  }

  /** Stops watching and gives up the Lease; `run` then settles. */
  shutdown(signal: string): void {
    if (this.stopping) return;
    this.stopping = true;
    log.info('watcher stopping', { signal });
    this.endTerm();
    if (this.election) this.released = this.election.stop();
  }

  /** Watches (when leading) until `shutdown`. */
  async run(): Promise<void> {
    const { config, election } = this;
    log.info('watcher started', {
      kinds: kinds.map((k) => k.kind).join(','),
      temporal: config.temporalAddress,
      httpPort: config.httpPort,
      leaderElection: config.leaderElection,
      ...(election ? { lease: `${config.podNamespace}/${config.leaseName}` } : {}),
    });
    if (election) {
      leader.set(0);
      await election.run();
    } else {
      this.beginTerm();
    }
    await Promise.all(this.terms);
    await this.released;
    log.info('watcher stopped');
  }

  private beginTerm(): void {
    if (this.term || this.stopping) return;
    this.term = this.startTerm();
    this.terms.push(this.term.done);
    leader.set(1);
  }

  private endTerm(): void {
    this.term?.stop();
    this.term = undefined;
    leader.set(0);
  }

  private startTerm(): Term {
    const { config, clients } = this;
    const dispatcher = new Dispatcher(
      this.gateway,
      (message, error, ref) => log.warn(message, { ...(ref ? resourceFields(ref) : {}), error: errorText(error) }),
      { maxInFlight: this.maxInFlight },
    );
    const watches = kinds.map(
      (definition) =>
        new ResourceWatch(
          clients,
          definition,
          {
            upsert: (object, listed) => {
              watchEvents.inc({ kind: definition.kind, type: listed ? 'listed' : 'changed' });
              dispatcher.upsert(object, listed);
            },
            remove: (object) => {
              watchEvents.inc({ kind: definition.kind, type: 'deleted' });
              dispatcher.remove(object);
            },
          },
          {
            watchdogMs: config.watchdogSeconds * 1000,
            relistMs: config.relistSeconds * 1000,
            maxBackoffMs: 30_000,
          },
        ),
    );
    const retryTimer = setInterval(() => dispatcher.retryFailed(), 2000);
    const done = Promise.all(watches.map((watch) => watch.run())).then(() => undefined);
    return {
      synced: () => watches.every((watch) => watch.lists > 0),
      stop() {
        clearInterval(retryTimer);
        for (const watch of watches) watch.stop();
      },
      done,
    };
  }
}
