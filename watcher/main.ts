/**
 * The watcher process (watcher-role.ts): watches every kind and signals
 * Temporal. OPERATOR_HTTP_PORT serves /healthz, /readyz and /metrics.
 */
import { Client, Connection } from '@temporalio/client';
import { kubeClients } from '../kube/client.js';
import { loadConfig } from '../process/config.js';
import { startOperatorHttp } from '../process/http.js';
import { instrumentKubeClients } from '../process/metrics.js';
import { temporalConnectionOptions } from '../process/temporal-connection.js';
import { WatcherRole } from './watcher-role.js';

const config = loadConfig('watcher');
let role: WatcherRole | undefined = undefined;
// Serves the probes before connecting, so a Temporal slow to answer shows as not ready rather than dead.
const probes = await startOperatorHttp(config.httpPort, {
  live: () => ({ ok: true, detail: 'event loop alive' }),
  ready: () => role?.readiness() ?? { ok: false, detail: 'connecting to Temporal' },
});
const connection = await Connection.connect(await temporalConnectionOptions(config));
role = new WatcherRole(config, instrumentKubeClients(kubeClients()), new Client({ connection, namespace: config.temporalNamespace }));
const watcher = role;
process.on('SIGTERM', () => watcher.shutdown('SIGTERM'));
process.on('SIGINT', () => watcher.shutdown('SIGINT'));
await watcher.run();
await connection.close();
await probes.close();
