/**
 * Access to the Kubernetes API for activities and the watcher: one
 * KubeConfig (KUBECONFIG or in-cluster), typed helpers for our custom
 * resources, and the one rule for "not found".
 */
import {
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { API_GROUP, API_VERSION, kindDefinition } from '../crds/index.js';
import type { ObjectRef } from '../contract/identity.js';

/** A custom resource as the API returns it. */
export interface CustomResource<Spec = Record<string, unknown>, Status = Record<string, unknown>> extends KubernetesObject {
  spec: Spec;
  status?: Status;
}

export interface KubeClients {
  config: KubeConfig;
  core: CoreV1Api;
  custom: CustomObjectsApi;
}

/** Clients from KUBECONFIG, or the in-cluster service account. */
export function kubeClients(config: KubeConfig = defaultKubeConfig()): KubeClients {
  return { config, core: config.makeApiClient(CoreV1Api), custom: config.makeApiClient(CustomObjectsApi) };
}

export function defaultKubeConfig(): KubeConfig {
  const config = new KubeConfig();
  config.loadFromDefault();
  return config;
}

/** HTTP status of a client-node error, if it has one. */
export function httpStatus(error: unknown): number | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error).code;
    if (typeof code === 'number') return code;
  }
  return undefined;
}

/** The object, or null when the API answers 404. */
export async function readCustomResource<Spec, Status>(
  clients: KubeClients,
  ref: ObjectRef,
): Promise<CustomResource<Spec, Status> | null> {
  const { plural } = kindDefinition(ref.kind);
  try {
    return (await clients.custom.getNamespacedCustomObject({
      group: API_GROUP,
      version: API_VERSION,
      namespace: ref.namespace,
      plural,
      name: ref.name,
    })) as CustomResource<Spec, Status>;
  } catch (error) {
    if (httpStatus(error) === 404) return null;
    throw error;
  }
}

/** A JSON Patch (RFC 6902) on the object itself. */
export async function jsonPatchCustomResource(clients: KubeClients, ref: ObjectRef, patch: object[]): Promise<void> {
  await clients.custom.patchNamespacedCustomObject(
    {
      group: API_GROUP,
      version: API_VERSION,
      namespace: ref.namespace,
      plural: kindDefinition(ref.kind).plural,
      name: ref.name,
      body: patch,
    },
    setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
  );
}

/** A JSON merge patch on the status subresource. */
export async function mergePatchStatus(clients: KubeClients, ref: ObjectRef, body: object): Promise<void> {
  await clients.custom.patchNamespacedCustomObjectStatus(
    {
      group: API_GROUP,
      version: API_VERSION,
      namespace: ref.namespace,
      plural: kindDefinition(ref.kind).plural,
      name: ref.name,
      body,
    },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}

/**
 * This cluster's identity when none is configured: the UID of its
 * kube-system namespace, which is made once with the cluster and never
 * changes, and differs between any two clusters.
 */
export async function defaultClusterID(clients: KubeClients): Promise<string> {
  const namespace = await clients.core.readNamespace({ name: 'kube-system' });
  const uid = namespace.metadata?.uid;
  if (!uid) throw new Error('the kube-system namespace has no uid; set CLUSTER_ID');
  return uid;
}
