/**
 * Access to the Kubernetes API for activities and the watcher: one
 * KubeConfig (KUBECONFIG or in-cluster), one keep-alive agent for every API
 * client of the process, typed helpers for our custom resources, and the one
 * rule for "not found".
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import {
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  ServerConfiguration,
  createConfiguration,
  setHeaderOptions,
  type ApiConstructor,
  type ApiType,
  type KubernetesObject,
  type RequestContext,
  type SecurityAuthentication,
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

/**
 * Connections one shared agent keeps to the API server at most; requests
 * beyond that queue in the agent rather than open more.
 */
export const KUBE_MAX_SOCKETS = 64;

/** Shared agents by TLS identity; a few at most (a rotated client certificate makes a new one). */
const sharedAgents = new Map<string, http.Agent>();
const MAX_SHARED_AGENTS = 4;

type Fingerprinted = string | Buffer | boolean | number | undefined | ReadonlyArray<Fingerprinted> | object;

function fingerprint(values: readonly Fingerprinted[]): string {
  const hash = createHash('sha256');
  const add = (value: Fingerprinted): void => {
    if (Array.isArray(value)) {
      hash.update(`[${value.length}`);
      for (const item of value as readonly Fingerprinted[]) add(item);
    } else if (Buffer.isBuffer(value)) {
      hash.update(`b${value.length}:`).update(value);
    } else if (typeof value === 'string') {
      hash.update(`s${value.length}:${value}`);
    } else if (value === undefined) {
      hash.update('u');
    } else {
      // Booleans and numbers; objects (KeyObject, PxfObject) are rare here and compared by their JSON.
      const text = JSON.stringify(value);
      hash.update(`j${text.length}:${text}`);
    }
  };
  for (const value of values) add(value);
  return hash.digest('hex');
}

/**
 * The process-wide keep-alive agent for the agent client-node just made for
 * one request, carrying the same TLS options (CA, client certificate and
 * key, servername, rejectUnauthorized); the bearer token stays in the
 * request's headers. client-node 1.4 makes a new, non-keep-alive agent in
 * every `applySecurityAuthentication`, so every request paid for a TCP and
 * TLS handshake. Proxy agents (socks, hpagent) are left as they are: their
 * own class does the connecting.
 */
function sharedAgentFor(made: http.Agent | https.Agent | undefined): http.Agent | undefined {
  if (!made) return undefined;
  let key: string;
  let create: () => http.Agent;
  if (made.constructor === https.Agent) {
    const o = made.options;
    // Only what is set: an agent's options override each request's, and an
    // explicit undefined would still count as given.
    const tls: https.AgentOptions = Object.fromEntries(
      Object.entries({
        ca: o.ca,
        cert: o.cert,
        key: o.key,
        pfx: o.pfx,
        passphrase: o.passphrase,
        servername: o.servername,
        rejectUnauthorized: o.rejectUnauthorized,
      }).filter(([, value]) => value !== undefined),
    );
    key = `https:${fingerprint([tls.ca, tls.cert, tls.key, tls.pfx, tls.passphrase, tls.servername, tls.rejectUnauthorized])}`;
    create = () => new https.Agent({ ...tls, keepAlive: true, maxSockets: KUBE_MAX_SOCKETS });
  } else if (made.constructor === http.Agent) {
    key = 'http';
    create = () => new http.Agent({ keepAlive: true, maxSockets: KUBE_MAX_SOCKETS });
  } else {
    return undefined;
  }
  let agent = sharedAgents.get(key);
  if (!agent) {
    agent = countConnections(create());
    sharedAgents.set(key, agent);
    // An agent dropped here is not destroyed: requests in flight finish on
    // it, and its idle sockets close when the server closes them.
    const oldest = sharedAgents.keys().next().value;
    if (sharedAgents.size > MAX_SHARED_AGENTS && oldest !== undefined) sharedAgents.delete(oldest);
  }
  return agent;
}

/** The kubeconfig's authentication, then the shared agent in place of the per-request one. */
function sharedAgentAuthentication(config: KubeConfig): SecurityAuthentication {
  return {
    getName: () => 'kubeconfig with a shared keep-alive agent',
    async applySecurityAuthentication(context: RequestContext): Promise<void> {
      await config.applySecurityAuthentication(context);
      const agent = sharedAgentFor(context.getAgent());
      if (agent) context.setAgent(agent);
    },
  };
}

/** `KubeConfig.makeApiClient`, but with the shared agent. */
function makeApiClient<T extends ApiType>(config: KubeConfig, apiClass: ApiConstructor<T>): T {
  const cluster = config.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster: set its current-context');
  return new apiClass(
    createConfiguration({
      baseServer: new ServerConfiguration(cluster.server, {}),
      authMethods: { default: sharedAgentAuthentication(config) },
    }),
  );
}

/**
 * Clients from KUBECONFIG, or the in-cluster service account. Every client
 * of the process, from every call, shares one keep-alive agent per TLS
 * identity (see sharedAgentFor), so requests reuse connections.
 */
export function kubeClients(config: KubeConfig = defaultKubeConfig()): KubeClients {
  return { config, core: makeApiClient(config, CoreV1Api), custom: makeApiClient(config, CustomObjectsApi) };
}

let connectionsOpened = 0;

function countConnections(agent: http.Agent): http.Agent {
  const open = agent.createConnection.bind(agent);
  agent.createConnection = (options, callback) => {
    connectionsOpened++;
    return open(options, callback);
  };
  return agent;
}

/**
 * Connections the shared agents have opened since the process started (a
 * reused connection is not counted again), and the sockets they hold now,
 * busy or idle: for tests and metrics.
 */
export function kubeConnectionStats(): { opened: number; open: number } {
  let open = 0;
  for (const agent of sharedAgents.values()) {
    for (const sockets of [...Object.values(agent.sockets), ...Object.values(agent.freeSockets)]) open += sockets?.length ?? 0;
  }
  return { opened: connectionsOpened, open };
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
