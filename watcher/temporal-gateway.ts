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
        await ignoreNotRunning(client.workflow.getHandle(workflowId).signal(resourceChangedSignal, change));
        return;
      }
      await client.workflow.signalWithStart<typeof reconcileWorkflow, [ResourceChange]>('reconcileWorkflow', {
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
      });
    },
    async dependencyChanged(dependent: ObjectRef, dependency: ObjectRef) {
      const workflowId = workflowIdFor(dependent);
      await ignoreNotRunning(client.workflow.getHandle(workflowId).signal(dependencyChangedSignal, dependency));
    },
  };
}

/** A signal to a workflow that has completed is not an error: there is nobody left to tell. */
async function ignoreNotRunning(signal: Promise<void>): Promise<void> {
  try {
    await signal;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return;
    throw error;
  }
}
