/** The WorkflowGateway on a real Temporal client. */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { ObjectRef } from '../contract/identity.js';
import { workflowIdFor } from '../contract/identity.js';
import {
  dependencyChangedSignal,
  resourceChangedSignal,
  searchAttributes,
  type ResourceChange,
} from '../workflows/messages.js';
import type { reconcileWorkflow } from '../workflows/reconcile.js';
import { signalsSent } from '../process/metrics.js';
import type { WorkflowGateway } from './dispatcher.js';

export interface GatewayOptions {
  taskQueue: string;
  resyncSeconds: number;
  terminalRetrySeconds: number;
}

export function temporalGateway(client: Client, options: GatewayOptions): WorkflowGateway {
  return {
    async resourceChanged(ref: ObjectRef, change: ResourceChange, start: boolean) {
      const workflowId = workflowIdFor(ref);
      if (!start) {
        await counted(ref, 'resourceChanged', ignoreNotRunning(client.workflow.getHandle(workflowId).signal(resourceChangedSignal, change)));
        return;
      }
      await counted(ref, 'signalWithStart', client.workflow.signalWithStart<typeof reconcileWorkflow, [ResourceChange]>('reconcileWorkflow', {
        workflowId,
        taskQueue: options.taskQueue,
        args: [{ ref, resyncSeconds: options.resyncSeconds, terminalRetrySeconds: options.terminalRetrySeconds }],
        signal: resourceChangedSignal,
        signalArgs: [change],
        typedSearchAttributes: [
          { key: searchAttributes.kind, value: ref.kind },
          { key: searchAttributes.namespace, value: ref.namespace },
          { key: searchAttributes.name, value: ref.name },
          { key: searchAttributes.phase, value: 'Pending' },
        ],
      }));
    },
    async dependencyChanged(dependent: ObjectRef, dependency: ObjectRef) {
      const workflowId = workflowIdFor(dependent);
      await counted(dependent, 'dependencyChanged', ignoreNotRunning(client.workflow.getHandle(workflowId).signal(dependencyChangedSignal, dependency)));
    },
  };
}

/** Says whether a signal reached a running workflow; see counted. */
const NOT_RUNNING = 'not_running';

/** A signal to a workflow that has completed is not an error: there is nobody left to tell. */
async function ignoreNotRunning(signal: Promise<void>): Promise<void | typeof NOT_RUNNING> {
  try {
    await signal;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return NOT_RUNNING;
    throw error;
  }
}

/** Counts one call in infra_operator_signals_total by its outcome: sent, not_running or failed. */
async function counted(ref: ObjectRef, signal: string, call: Promise<unknown>): Promise<void> {
  try {
    const result = await call;
    signalsSent.inc({ kind: ref.kind, signal, outcome: result === NOT_RUNNING ? NOT_RUNNING : 'sent' });
  } catch (error) {
    signalsSent.inc({ kind: ref.kind, signal, outcome: 'failed' });
    throw error;
  }
}
