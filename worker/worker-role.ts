/**
 * The worker's part of the operator: the Temporal Worker that runs the
 * reconcile workflow and its activities, and the drift sweep it starts. Run
 * alone by worker/main.ts, or beside the watcher in one process by
 * operator/main.ts.
 */
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { handledKinds } from '../activities/aws/registry.js';
import { createActivities } from '../activities/index.js';
import { sweepActivities } from '../activities/sweep/drift-sweep.js';
import { startDriftSweep, temporalWake } from '../activities/sweep/temporal.js';
import { defaultClusterID, type KubeClients } from '../kube/client.js';
import { sweepIntervals, type OperatorConfig } from '../process/config.js';
import type { Check } from '../process/http.js';
import { log, sdkFields } from '../process/log.js';
import { temporalConnectionOptions } from '../process/temporal-connection.js';
import { activityMetrics } from './activity-metrics.js';
import { ensureSearchAttributes } from './search-attributes.js';
import { workflowBundle } from './workflow-bundle.js';

/**
 * Called before anything makes the SDK's default Runtime: its logs become our
 * JSON lines (naming the resource of a reconcile workflow), and its own
 * metrics (task latencies, slots, polls) are served for Prometheus. The
 * Runtime drains the Worker on SIGTERM and SIGINT.
 */
export function installWorkerRuntime(config: OperatorConfig): void {
  Runtime.install({
    logger: new DefaultLogger('INFO', (entry) => log.at(entry.level, entry.message, sdkFields(entry.meta))),
    telemetryOptions: { metrics: { prometheus: { bindAddress: `0.0.0.0:${config.temporalMetricsPort}` } } },
  });
}

export class WorkerRole {
  // Set once created; the probes read it before then.
  private worker: Worker | undefined = undefined;
  private startup = 'connecting to the API server';

  constructor(
    private readonly config: OperatorConfig,
    private readonly clients: KubeClients,
  ) {}

  liveness(): Check {
    const state = this.worker?.getState();
    return state === 'FAILED' ? { ok: false, detail: 'the Temporal worker failed' } : { ok: true, detail: `worker ${state ?? 'starting'}` };
  }

  readiness(): Check {
    const state = this.worker?.getState();
    return state === 'RUNNING' ? { ok: true, detail: 'connected to Temporal and the API server, polling' } : { ok: false, detail: state ? `worker ${state}` : this.startup };
  }

  /**
   * Runs until the Runtime's shutdown signal has drained the Worker.
   * `connectClient` gives the client the drift sweep signals workflows and
   * starts its own through, once the API server has answered.
   */
  async run(connectClient: () => Promise<Client>): Promise<void> {
    const { config, clients } = this;
    const clusterID = config.clusterID ?? (await defaultClusterID(clients));
    this.startup = 'connecting to Temporal';
    const connection = await NativeConnection.connect(await temporalConnectionOptions(config));
    const client = await connectClient();
    this.startup = 'registering search attributes';
    await ensureSearchAttributes(config);
    this.startup = 'starting the worker';

    // Compiled runs (dist/) carry .js workflows; source runs (tsx) carry .ts.
    const here = fileURLToPath(import.meta.url);
    const workflowsPath = fileURLToPath(new URL(`../workflows/index${here.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url));

    const awsSettings = { clusterID, ambientCredentialNamespaces: config.ambientCredentialNamespaces };
    const worker = await Worker.create({
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
    this.worker = worker;

    log.info('worker started', {
      taskQueue: config.taskQueue,
      temporal: config.temporalAddress,
      clusterID,
      httpPort: config.httpPort,
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
    await connection.close();
    log.info('worker stopped');
  }
}
