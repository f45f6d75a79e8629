/**
 * The whole operator in one process: the worker's part (worker-role.ts) and
 * the watcher's (watcher-role.ts) sharing one Node.js runtime, one set of
 * Kubernetes connections and one Temporal client. For a small install this
 * saves the second process's runtime and Temporal client, about 85 MiB at
 * 1,000 SQSQueues (bench/results-single-process.md against
 * bench/results.md); the two-process layout stays for scaling workers
 * apart from the one leading watcher.
 *
 * With LEADER_ELECTION (the default) every replica runs a worker and the
 * one holding the Lease also watches. SIGTERM drains the worker (the SDK's
 * Runtime) and gives up the Lease; a worker that fails stops the watcher
 * too, and the process exits with the error.
 */
import { Client, Connection } from '@temporalio/client';
import { kubeClients } from '../kube/client.js';
import { loadConfig } from '../process/config.js';
import { startOperatorHttp, type Check } from '../process/http.js';
import { instrumentKubeClients } from '../process/metrics.js';
import { temporalConnectionOptions } from '../process/temporal-connection.js';
import { WatcherRole } from '../watcher/watcher-role.js';
import { WorkerRole, installWorkerRuntime } from '../worker/worker-role.js';

const config = loadConfig('operator');
installWorkerRuntime(config);
const clients = instrumentKubeClients(kubeClients());
const worker = new WorkerRole(config, clients);
let watcher: WatcherRole | undefined;
let watching: Promise<void> = Promise.resolve();
let stopSignal: string | undefined;

function both(first: Check, second: Check): Check {
  return { ok: first.ok && second.ok, detail: `${first.detail}; ${second.detail}` };
}
const probes = await startOperatorHttp(config.httpPort, {
  live: () => worker.liveness(),
  ready: () => both(worker.readiness(), watcher?.readiness() ?? { ok: false, detail: 'watcher not started' }),
});
function stop(signal: string): void {
  stopSignal ??= signal;
  watcher?.shutdown(signal);
}
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));

let connection: Connection | undefined;
try {
  await worker.run(async () => {
    connection = await Connection.connect(await temporalConnectionOptions(config));
    const client = new Client({ connection, namespace: config.temporalNamespace });
    watcher = new WatcherRole(config, clients, client);
    watching = watcher.run();
    // A signal that came while connecting stops the watcher it missed.
    if (stopSignal) watcher.shutdown(stopSignal);
    return client;
  });
} finally {
  stop('worker stopped');
  await watching;
  await connection?.close();
  await probes.close();
}
