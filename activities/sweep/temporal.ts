/**
 * The drift sweep's two uses of a Temporal client in the worker: waking a
 * resource's reconcile workflow, and starting (or re-configuring) the
 * cluster's one sweep workflow.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { workflowIdFor, type ObjectRef } from '../../contract/identity.js';
import { log } from '../../process/log.js';
import type { driftSweepWorkflow } from '../../workflows/drift-sweep.js';
import { driftDetectedSignal, driftSweepWorkflowId, sweepSettingsSignal, type DriftFound, type SweepSettings } from '../../workflows/messages.js';

/** Sends driftDetected to a resource's workflow; one not running has nobody to tell (the watcher starts it on any change). */
export function temporalWake(client: Client): (ref: ObjectRef, drift: DriftFound) => Promise<void> {
  return async (ref, drift) => {
    try {
      await client.workflow.getHandle(workflowIdFor(ref)).signal(driftDetectedSignal, drift);
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return;
      throw error;
    }
  };
}

/** Seconds between attempts to start the sweep while Temporal refuses. */
const START_RETRY_SECONDS = 10;

/**
 * Starts the cluster's drift sweep, or hands the running one this worker's
 * settings (signalWithStart: every worker of the cluster may call it, and
 * one sweep runs). Keeps trying in the background until Temporal takes it;
 * `stopped` ends the attempts.
 */
export function startDriftSweep(
  client: Client,
  options: { clusterID: string; taskQueue: string; settings: SweepSettings; stopped: () => boolean },
): Promise<void> {
  const workflowId = driftSweepWorkflowId(options.clusterID);
  const attempt = async (): Promise<void> => {
    for (;;) {
      try {
        await client.workflow.signalWithStart<typeof driftSweepWorkflow, [SweepSettings]>('driftSweepWorkflow', {
          workflowId,
          taskQueue: options.taskQueue,
          args: [{ settings: options.settings }],
          signal: sweepSettingsSignal,
          signalArgs: [options.settings],
        });
        log.info('drift sweep started', { workflowId, kinds: options.settings.kinds.length });
        return;
      } catch (error) {
        log.warn('drift sweep not started yet', { workflowId, error: String(error) });
      }
      if (options.stopped()) return;
      await new Promise((resolve) => setTimeout(resolve, START_RETRY_SECONDS * 1000));
    }
  };
  return attempt();
}
