/**
 * The watcher process: one ResourceWatch per kind feeding one Dispatcher,
 * which signals Temporal. It holds no state that matters across restarts:
 * its first list signals every object, and the workflows decide what is new.
 *
 * With LEADER_ELECTION (the default) only the replica holding the Lease
 * (leader.ts) watches and signals; a standby only tries for the Lease, and
 * starts its watches fresh when it gets it, so its first list signals
 * everything, as after a restart: nothing the old leader missed is lost.
 */
import { Client, Connection } from '@temporalio/client';
import { kubeClients } from '../kube/client.js';
import { kinds } from '../crds/index.js';
import { loadConfig } from '../process/config.js';
import { startOperatorHttp, type Check } from '../process/http.js';
import { errorText, log, resourceFields } from '../process/log.js';
import { instrumentKubeClients, leader, leaderTransitions, watchEvents } from '../process/metrics.js';
import { temporalConnectionOptions } from '../process/temporal-connection.js';
import { Dispatcher, parseMaxInFlight } from './dispatcher.js';
import { LeaderElection, holderIdentity } from './leader.js';
import { ResourceWatch } from './resource-watch.js';
import { temporalGateway } from './temporal-gateway.js';

const config = loadConfig('watcher');
let temporalConnected = false;
// Serves the probes before connecting, so a Temporal slow to answer shows as not ready rather than dead.
const probes = await startOperatorHttp(config.httpPort, { live: () => ({ ok: true, detail: 'event loop alive' }), ready: () => readiness() });
const connection = await Connection.connect(await temporalConnectionOptions(config));
const client = new Client({ connection, namespace: config.temporalNamespace });
temporalConnected = true;
const clients = instrumentKubeClients(kubeClients());
const gateway = temporalGateway(client, {
  taskQueue: config.taskQueue,
  resyncSeconds: config.resyncSeconds,
  terminalRetrySeconds: config.terminalRetrySeconds,
});
const maxInFlight = parseMaxInFlight(process.env.MAX_INFLIGHT_SIGNALS);

/** One term of dispatching: a Dispatcher and its watches, made fresh each time this watcher starts leading. */
interface Term {
  /** Every kind has been listed once. */
  synced(): boolean;
  stop(): void;
  /** Settles once every watch has stopped. */
  done: Promise<void>;
}

function startTerm(): Term {
  const dispatcher = new Dispatcher(
    gateway,
    (message, error, ref) => log.warn(message, { ...(ref ? resourceFields(ref) : {}), error: errorText(error) }),
    { maxInFlight },
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

let term: Term | undefined;
const terms: Array<Promise<void>> = [];
function beginTerm(): void {
  if (term) return;
  term = startTerm();
  terms.push(term.done);
  leader.set(1);
}
function endTerm(): void {
  term?.stop();
  term = undefined;
  leader.set(0);
}

const election = config.leaderElection
  ? new LeaderElection(
      clients,
      { namespace: config.podNamespace, name: config.leaseName, identity: holderIdentity() },
      {
        started: () => {
          leaderTransitions.inc();
          beginTerm();
        },
        stopped: endTerm,
      },
    )
  : undefined;

function readiness(): Check {
  if (!temporalConnected) return { ok: false, detail: 'connecting to Temporal' };
  if (election && !election.reachable) return { ok: false, detail: 'the API server did not answer the last Lease request' };
  if (!term) return { ok: true, detail: 'standing by: another watcher holds the Lease' };
  return term.synced() ? { ok: true, detail: 'leading: every kind listed, watching' } : { ok: false, detail: 'listing every kind' };
}

let stopping = false;
/** Settles once the Lease is given up, so a standby takes over at once. */
let released: Promise<void> = Promise.resolve();
function shutdown(signal: string): void {
  if (stopping) return;
  stopping = true;
  log.info('watcher stopping', { signal });
  endTerm();
  if (election) released = election.stop();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));

log.info('watcher started', {
  kinds: kinds.map((k) => k.kind).join(','),
  temporal: config.temporalAddress,
  httpPort: probes.port,
  leaderElection: config.leaderElection,
  ...(election ? { lease: `${config.podNamespace}/${config.leaseName}` } : {}),
});
if (election) {
  leader.set(0);
  await election.run();
} else {
  beginTerm();
}
await Promise.all(terms);
await released;
await connection.close();
await probes.close();
log.info('watcher stopped');
