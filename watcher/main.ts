/**
 * The watcher process: one ResourceWatch per kind feeding one Dispatcher,
 * which signals Temporal. It holds no state that matters across restarts:
 * its first list signals every object, and the workflows decide what is new.
 */
import { Client, Connection } from '@temporalio/client';
import { kubeClients } from '../kube/client.js';
import { kinds } from '../crds/index.js';
import { loadConfig } from '../process/config.js';
import { log } from '../process/log.js';
import { temporalConnectionOptions } from '../process/temporal-connection.js';
import { Dispatcher, parseMaxInFlight } from './dispatcher.js';
import { ResourceWatch } from './resource-watch.js';
import { temporalGateway } from './temporal-gateway.js';

const config = loadConfig();
const connection = await Connection.connect(await temporalConnectionOptions(config));
const client = new Client({ connection, namespace: config.temporalNamespace });
const clients = kubeClients();
const dispatcher = new Dispatcher(
  temporalGateway(client, {
    taskQueue: config.taskQueue,
    resyncSeconds: config.resyncSeconds,
    terminalRetrySeconds: config.terminalRetrySeconds,
  }),
  (message, error) => log.warn(message, { error: error instanceof Error ? error.name + ': ' + error.message : String(error) }),
  { maxInFlight: parseMaxInFlight(process.env.MAX_INFLIGHT_SIGNALS) },
);

const watches = kinds.map(
  (definition) =>
    new ResourceWatch(
      clients,
      definition,
      {
        upsert: (object, listed) => dispatcher.upsert(object, listed),
        remove: (object) => dispatcher.remove(object),
      },
      {
        watchdogMs: config.watchdogSeconds * 1000,
        relistMs: config.relistSeconds * 1000,
        maxBackoffMs: 30_000,
      },
    ),
);

const retryTimer = setInterval(() => dispatcher.retryFailed(), 2000);
let stopping = false;
function shutdown(signal: string): void {
  if (stopping) return;
  stopping = true;
  log.info('watcher stopping', { signal });
  clearInterval(retryTimer);
  for (const watch of watches) watch.stop();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));

log.info('watcher started', { kinds: kinds.map((k) => k.kind).join(','), temporal: config.temporalAddress });
await Promise.all(watches.map((watch) => watch.run()));
await connection.close();
log.info('watcher stopped');
