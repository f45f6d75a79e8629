/**
 * Everything an integration test needs on the real stack: a throwaway stack
 * on free ports, the AWS proxy in front of moto, the CRDs, a provider whose
 * Secret holds a unique key (so tests can prove it never leaks), the
 * operator's processes, and small kubectl helpers.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { AwsProxy, type ProxyCall } from './aws-proxy.js';
import { stackBinary } from './binaries.js';
import { Operator, type OperatorProcess } from './operator.js';
import { startStack, type LocalStack, type StartStackOptions } from './stack.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));

export interface Harness {
  stack: LocalStack;
  proxy: AwsProxy;
  operator: Operator;
  temporal: Client;
  /** The provider's secret access key: must never show up anywhere but AWS requests. */
  secretAccessKey: string;
  kubectl(args: string[], stdin?: string): Promise<string>;
  /** `kubectl apply` of YAML text. */
  apply(yaml: string): Promise<void>;
  /** The object as JSON, or null when it does not exist. */
  get<T = CustomObject>(resource: string, name: string): Promise<T | null>;
  /**
   * Kills the worker (SIGKILL) right after the first call that `matches`
   * has reached AWS, before its answer gets back: a crash between a create
   * and the activity recording it. Returns a check for "killed yet" and a
   * remover for the interception.
   */
  crashWorkerAfter(matches: (call: ProxyCall) => boolean): { killed: () => boolean; remove: () => void };
  /** Polls `check` every 200 ms until it returns a value, failing after `timeoutMs` with `what`. */
  until<T>(what: string, check: () => Promise<T | undefined | null | false>, timeoutMs?: number): Promise<T>;
  teardown(): Promise<void>;
}

export interface CustomObject {
  metadata: { name: string; uid: string; generation: number; finalizers?: string[]; deletionTimestamp?: string };
  spec: Record<string, unknown>;
  status?: {
    ready?: boolean;
    phase?: string;
    observedGeneration?: number;
    conditions?: Array<{ type: string; status: string; reason: string; message: string }>;
    [field: string]: unknown;
  };
}

/** Ready condition of an object, for readable assertions. */
export function readyCondition(object: CustomObject | null) {
  return object?.status?.conditions?.find((c) => c.type === 'Ready');
}

export const providerName = 'production-aws';
export const awsCredentials = { accessKeyId: 'AKIAINTEGRATIONTEST1', region: 'us-east-1' };

/** kubectl and the polling helpers for one cluster; `tail` adds the operator's last output to a timeout. */
function clusterTools(stack: LocalStack, kubectlPath: string, tail: () => string, label: string) {
  const kubectl = async (args: string[], stdin?: string): Promise<string> => {
    const child = run(kubectlPath, ['--kubeconfig', stack.kubeconfigPath, ...args], { cwd: root, maxBuffer: 32 << 20 });
    if (stdin !== undefined) child.child.stdin?.end(stdin);
    return (await child).stdout;
  };
  const apply = async (yaml: string) => {
    await kubectl(['apply', '-f', '-'], yaml);
  };
  const get = async <T = CustomObject>(resource: string, name: string): Promise<T | null> => {
    try {
      return JSON.parse(await kubectl(['get', resource, name, '-o', 'json'])) as T;
    } catch (error) {
      if (String((error as { stderr?: string }).stderr).includes('NotFound')) return null;
      throw error;
    }
  };
  const until = async <T>(what: string, check: () => Promise<T | undefined | null | false>, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await check();
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${label}\n${tail()}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };
  return { kubectl, apply, get, until };
}

/** The CRDs, and the provider every test uses with its Secret, pointing at `endpoint`. */
async function installCrdsAndProvider(
  cluster: { kubectl(args: string[]): Promise<string>; apply(yaml: string): Promise<void> },
  secretAccessKey: string,
  endpoint: string,
): Promise<void> {
  await cluster.kubectl(['apply', '-f', 'deploy/crds/']);
  await cluster.kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all']);
  await cluster.apply(
    providerYaml({ provider: providerName, secret: 'aws-credentials', endpoint, secretAccessKey }) +
      '  defaultTags: { managed-by: infra-operator, environment: testing }\n',
  );
}

/**
 * A Secret holding the test keys and an AWSProvider reading it, in one
 * namespace; the provider's spec ends the text, so a caller may add fields.
 */
export function providerYaml(options: { provider: string; secret: string; endpoint: string; secretAccessKey: string; namespace?: string }): string {
  const namespace = options.namespace ?? 'default';
  return `
apiVersion: v1
kind: Secret
metadata: { name: ${options.secret}, namespace: ${namespace} }
type: Opaque
stringData:
  access-key-id: ${awsCredentials.accessKeyId}
  secret-access-key: ${options.secretAccessKey}
---
apiVersion: aws-infra-operator.runner.codes/v1alpha1
kind: AWSProvider
metadata: { name: ${options.provider}, namespace: ${namespace} }
spec:
  region: ${awsCredentials.region}
  endpoint: ${options.endpoint}
  accessKeyIDRef: { name: ${options.secret}, key: access-key-id }
  secretAccessKeyRef: { name: ${options.secret}, key: secret-access-key }
`;
}

export async function startHarness(
  operatorEnv: Record<string, string> = {},
  stackOptions: StartStackOptions = {},
  /** The operator's processes: worker and watcher, or `operator` for both parts in one. */
  processes: OperatorProcess[] = ['worker', 'watcher'],
): Promise<Harness> {
  const stack = await startStack(stackOptions);
  const kubectlPath = await stackBinary('kubectl');
  const secretAccessKey = `integration-secret-${randomUUID()}`;
  const proxy = new AwsProxy(stack.awsEndpoint);
  await proxy.start();

  const { kubectl, apply, get, until } = clusterTools(stack, kubectlPath, () => operator.tail(), '');
  await installCrdsAndProvider({ kubectl, apply }, secretAccessKey, proxy.url);

  const operator = new Operator({
    kubeconfigPath: stack.kubeconfigPath,
    temporalAddress: stack.temporalAddress,
    taskQueue: `it-${randomUUID()}`,
    env: { RESYNC_SECONDS: '3', SWEEP_SECONDS: '2', WATCHDOG_SECONDS: '90', RELIST_SECONDS: '120', ...operatorEnv },
  });
  await operator.start(processes);
  const connection = await Connection.connect({ address: stack.temporalAddress });
  const temporal = new Client({ connection });

  const crashWorkerAfter = (matches: (call: ProxyCall) => boolean) => {
    let intercepted = false;
    let killed = false;
    const remove = proxy.intercept((call) => {
      if (intercepted || !matches(call)) return undefined;
      intercepted = true;
      return {
        afterForward: async () => {
          await operator.kill('worker');
          killed = true;
          return 'drop';
        },
      };
    });
    return { killed: () => killed, remove };
  };

  return {
    stack,
    proxy,
    operator,
    crashWorkerAfter,
    temporal,
    secretAccessKey,
    kubectl,
    apply,
    get,
    until,
    async teardown() {
      await operator.stop().catch(() => undefined);
      await connection.close().catch(() => undefined);
      await proxy.stop().catch(() => undefined);
      await stack.stop();
    },
  };
}

/**
 * A second cluster beside a harness: its own API server (so its own
 * kube-system UID, the operator's default cluster identity), its own
 * Temporal (so same-named resources get workflows of their own), and its own
 * operator, all sharing the harness's AWS through its proxy. Two clusters of
 * one account, as staging and production often are.
 */
export interface SecondCluster {
  stack: LocalStack;
  operator: Operator;
  /** UID of this cluster's kube-system namespace. */
  clusterID: string;
  kubectl(args: string[], stdin?: string): Promise<string>;
  /** `kubectl apply` of YAML text. */
  apply(yaml: string): Promise<void>;
  /** The object as JSON, or null when it does not exist. */
  get<T = CustomObject>(resource: string, name: string): Promise<T | null>;
  /** Polls `check` every 200 ms until it returns a value, failing after `timeoutMs` with `what`. */
  until<T>(what: string, check: () => Promise<T | undefined | null | false>, timeoutMs?: number): Promise<T>;
  teardown(): Promise<void>;
}

/**
 * Starts a second cluster whose provider `production-aws` (Secret
 * `aws-credentials`, holding the harness's secret access key, so the same
 * leak checks apply) points at the harness's AWS proxy.
 */
export async function startSecondCluster(h: Harness, operatorEnv: Record<string, string> = {}): Promise<SecondCluster> {
  const stack = await startStack({ components: ['etcd', 'kube', 'temporal'] });
  let operator: Operator | undefined;
  try {
    const kubectlPath = await stackBinary('kubectl');
    const { kubectl, apply, get, until } = clusterTools(stack, kubectlPath, () => operator?.tail() ?? '', ' (second cluster)');
    await installCrdsAndProvider({ kubectl, apply }, h.secretAccessKey, h.proxy.url);
    const clusterID = (await kubectl(['get', 'namespace', 'kube-system', '-o', 'jsonpath={.metadata.uid}'])).trim();

    const started = new Operator({
      kubeconfigPath: stack.kubeconfigPath,
      temporalAddress: stack.temporalAddress,
      taskQueue: `it-second-${randomUUID()}`,
      env: { RESYNC_SECONDS: '3', SWEEP_SECONDS: '2', WATCHDOG_SECONDS: '90', RELIST_SECONDS: '120', ...operatorEnv },
    });
    operator = started;
    await started.start();

    return {
      stack,
      operator: started,
      clusterID,
      kubectl,
      apply,
      get,
      until,
      async teardown() {
        await started.stop().catch(() => undefined);
        await stack.stop();
      },
    };
  } catch (error) {
    await operator?.stop().catch(() => undefined);
    await stack.stop().catch(() => undefined);
    throw error;
  }
}
