/**
 * The least a workflow per resource can be: started by the watcher's
 * SignalWithStart, one activity that makes the create call, then asleep
 * like a Ready resource. bench/engine-floor/run.ts runs N of them to show
 * what Temporal alone costs per create on this machine, with no Kubernetes.
 */
import { defineSignal, proxyActivities, setHandler, sleep } from '@temporalio/workflow';

export const floorChanged = defineSignal<[]>('floorChanged');

const { createDirect } = proxyActivities<{ createDirect(name: string): Promise<void> }>({ startToCloseTimeout: '1 minute' });

export async function engineFloorWorkflow(name: string): Promise<void> {
  setHandler(floorChanged, () => undefined);
  await createDirect(name);
  await sleep('1 day');
}
