/**
 * The worker process: runs the reconcile workflow and its activities.
 * Concurrency and task queue come from the environment; SIGTERM and SIGINT
 * drain in-flight tasks before exit (the SDK's Runtime handles both).
 */
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../activities/index.js';
import { defaultClusterID, kubeClients } from '../kube/client.js';
import { loadConfig } from '../process/config.js';
import { log } from '../process/log.js';
import { temporalConnectionOptions } from '../process/temporal-connection.js';
import { ensureSearchAttributes } from './search-attributes.js';

const config = loadConfig();
const clients = kubeClients();
const clusterID = config.clusterID ?? (await defaultClusterID(clients));
const connection = await NativeConnection.connect(await temporalConnectionOptions(config));
await ensureSearchAttributes(config);

// Compiled runs (dist/) carry .js workflows; source runs (tsx) carry .ts.
const here = fileURLToPath(import.meta.url);
const workflowsPath = fileURLToPath(new URL(`../workflows/index${here.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url));

const worker = await Worker.create({
  connection,
  namespace: config.temporalNamespace,
  taskQueue: config.taskQueue,
  workflowsPath,
  activities: createActivities(clients, { clusterID, ambientCredentialNamespaces: config.ambientCredentialNamespaces }),
  maxConcurrentActivityTaskExecutions: config.maxConcurrentActivities,
  // Kubernetes calls are local activities: bounded like the others.
  maxConcurrentLocalActivityExecutions: config.maxConcurrentActivities,
  maxConcurrentWorkflowTaskExecutions: config.maxConcurrentWorkflowTasks,
});

log.info('worker started', { taskQueue: config.taskQueue, temporal: config.temporalAddress, clusterID });
await worker.run();
await connection.close();
log.info('worker stopped');
