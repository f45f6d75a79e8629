/**
 * The worker process: runs the reconcile workflow and its activities.
 * Concurrency and task queue come from the environment; SIGTERM and SIGINT
 * drain in-flight tasks before exit (the SDK's Runtime handles both).
 * OPERATOR_HTTP_PORT serves /healthz, /readyz and /metrics; the Temporal
 * SDK serves its own metrics on TEMPORAL_METRICS_PORT.
 */
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { handledKinds } from '../activities/aws/registry.js';
import { createActivities } from '../activities/index.js';
import { sweepActivities } from '../activities/sweep/drift-sweep.js';
import { startDriftSweep, temporalWake } from '../activities/sweep/temporal.js';
import { defaultClusterID, kubeClients } from '../kube/client.js';
import { loadConfig, sweepIntervals } from '../process/config.js';
import { startOperatorHttp, type Check } from '../process/http.js';
import { log, sdkFields } from '../process/log.js';
import { instrumentKubeClients } from '../process/metrics.js';
import { temporalConnectionOptions } from '../process/temporal-connection.js';
import { activityMetrics } from './activity-metrics.js';
import { ensureSearchAttributes } from './search-attributes.js';
import { workflowBundle } from './workflow-bundle.js';

const config = loadConfig('worker');
// Before anything makes the SDK's default Runtime: its logs become our JSON
// lines (naming the resource of a reconcile workflow), and its own metrics
// (task latencies, slots, polls) are served for Prometheus.
Runtime.install({
  logger: new DefaultLogger('INFO', (entry) => log.at(entry.level, entry.message, sdkFields(entry.meta))),
  telemetryOptions: { metrics: { prometheus: { bindAddress: `0.0.0.0:${config.temporalMetricsPort}` } } },
});

// Set once created; the probes read it before then.
let worker: Worker | undefined = undefined;
let startup = 'connecting to the API server';
function liveness(): Check {
  const state = worker?.getState();
  return state === 'FAILED' ? { ok: false, detail: 'the Temporal worker failed' } : { ok: true, detail: `worker ${state ?? 'starting'}` };
}
function readiness(): Check {
  const state = worker?.getState();
  return state === 'RUNNING' ? { ok: true, detail: 'connected to Temporal and the API server, polling' } : { ok: false, detail: state ? `worker ${state}` : startup };
}
const probes = await startOperatorHttp(config.httpPort, { live: liveness, ready: readiness });

const clients = instrumentKubeClients(kubeClients());
const clusterID = config.clusterID ?? (await defaultClusterID(clients));
startup = 'connecting to Temporal';
const connection = await NativeConnection.connect(await temporalConnectionOptions(config));
// The drift sweep signals workflows and starts its own through a client.
const client = new Client({ connection: await Connection.connect(await temporalConnectionOptions(config)), namespace: config.temporalNamespace });
startup = 'registering search attributes';
await ensureSearchAttributes(config);
startup = 'starting the worker';

// Compiled runs (dist/) carry .js workflows; source runs (tsx) carry .ts.
const here = fileURLToPath(import.meta.url);
const workflowsPath = fileURLToPath(new URL(`../workflows/index${here.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url));

const awsSettings = { clusterID, ambientCredentialNamespaces: config.ambientCredentialNamespaces };
worker = await Worker.create({
  connection,
  namespace: config.temporalNamespace,
  taskQueue: config.taskQueue,
  workflowBundle: await workflowBundle(workflowsPath, config.workflowBundlePath),
  activities: {
    // The sweep covers every kind with a handler, so each may sleep on the safety net once in sync.
    ...createActivities(clients, awsSettings, { safetyResyncSeconds: config.safetyResyncSeconds }),
    ...sweepActivities({ clients, settings: awsSettings, wake: temporalWake(client), concurrency: config.sweepConcurrency }),
  },
  maxConcurrentActivityTaskExecutions: config.maxConcurrentActivities,
  // Kubernetes calls are local activities: bounded like the others.
  maxConcurrentLocalActivityExecutions: config.maxConcurrentActivities,
  maxConcurrentWorkflowTaskExecutions: config.maxConcurrentWorkflowTasks,
  stickyQueueScheduleToStartTimeout: config.stickyScheduleToStartSeconds * 1000,
  maxCachedWorkflows: config.maxCachedWorkflows,
  interceptors: { activity: [activityMetrics(clients)] },
});

log.info('worker started', {
  taskQueue: config.taskQueue,
  temporal: config.temporalAddress,
  clusterID,
  httpPort: probes.port,
  temporalMetricsPort: config.temporalMetricsPort,
});
let stopped = false;
const sweepStarted = startDriftSweep(client, {
  clusterID,
  taskQueue: config.taskQueue,
  settings: { kinds: sweepIntervals(handledKinds(), config.sweepSeconds) },
  stopped: () => stopped,
});
await worker.run();
stopped = true;
await sweepStarted;
await client.connection.close();
await connection.close();
await probes.close();
log.info('worker stopped');
