/** All activities the worker registers. */
import type { ReconcileActivities } from '../contract/activities.js';
import { awsActivities } from './aws/activities.js';
import type { AwsSettings } from './aws/context.js';
import { kubeActivities } from './kube/activities.js';
import type { KubeClients } from '../kube/client.js';

export function createActivities(clients: KubeClients, settings: AwsSettings): ReconcileActivities {
  return { ...kubeActivities(clients), ...awsActivities(clients, settings) };
}
