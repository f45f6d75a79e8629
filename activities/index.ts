/** All activities the worker registers. */
import type { ReconcileActivities } from '../shared/activities.js';
import { awsActivities } from './aws/activities.js';
import { kubeActivities } from './kube/activities.js';
import type { KubeClients } from './kube/client.js';

export function createActivities(clients: KubeClients): ReconcileActivities {
  return { ...kubeActivities(clients), ...awsActivities(clients) };
}
