/** All activities the worker registers. */
import type { ReconcileActivities } from '../contract/activities.js';
import { awsActivities } from './aws/activities.js';
import type { AwsSettings } from './aws/context.js';
import { kubeActivities } from './kube/activities.js';
import type { KubeClients } from '../kube/client.js';

/** What the worker tells every reconcile workflow through its activities. */
export interface ActivityOptions {
  /**
   * Set when this worker runs the drift sweep over every kind: a Ready,
   * in-sync resource then waits this long for its own next look (see
   * LoadedResource.safetyResyncSeconds).
   */
  safetyResyncSeconds?: number;
}

export function createActivities(clients: KubeClients, settings: AwsSettings, options: ActivityOptions = {}): ReconcileActivities {
  const kube = kubeActivities(clients);
  const { safetyResyncSeconds } = options;
  return {
    ...kube,
    ...awsActivities(clients, settings),
    ...(safetyResyncSeconds !== undefined
      ? {
          loadResource: async (ref) => {
            const loaded = await kube.loadResource(ref);
            return loaded && { ...loaded, safetyResyncSeconds };
          },
        }
      : {}),
  };
}
