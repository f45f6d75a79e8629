/**
 * The worker process: runs the reconcile workflow and its activities
 * (worker-role.ts). Concurrency and task queue come from the environment;
 * SIGTERM and SIGINT drain in-flight tasks before exit (the SDK's Runtime
 * handles both). OPERATOR_HTTP_PORT serves /healthz, /readyz and /metrics;
 * the Temporal SDK serves its own metrics on TEMPORAL_METRICS_PORT.
 */
import { Client, Connection } from '@temporalio/client';
import { kubeClients } from '../kube/client.js';
import { loadConfig } from '../process/config.js';
import { startOperatorHttp } from '../process/http.js';
import { instrumentKubeClients } from '../process/metrics.js';
import { temporalConnectionOptions } from '../process/temporal-connection.js';
import { WorkerRole, installWorkerRuntime } from './worker-role.js';

const config = loadConfig('worker');
installWorkerRuntime(config);
const role = new WorkerRole(config, instrumentKubeClients(kubeClients()));
const probes = await startOperatorHttp(config.httpPort, { live: () => role.liveness(), ready: () => role.readiness() });
let client: Client | undefined;
await role.run(async () => {
  client = new Client({ connection: await Connection.connect(await temporalConnectionOptions(config)), namespace: config.temporalNamespace });
  return client;
});
await client?.connection.close();
await probes.close();
