/**
 * The Helm chart on the real kube-apiserver of the local stack: lint,
 * server-side dry runs of every values file, an install, and then the
 * installed Deployments run as local processes (the stack has no kubelet, so
 * no pod ever starts): the dev server's, the worker's and the watcher's
 * command, arguments and environment exactly as the API server holds them.
 * Only addresses are overridden: listen ports and TEMPORAL_ADDRESS point at
 * this test's free ports, and KUBECONFIG replaces the in-cluster service
 * account mount with a token of that same ServiceAccount, so the processes
 * run with the chart's RBAC and nothing more. They reconcile an S3Bucket
 * against moto on a Temporal that started with no search attributes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { GetBucketTaggingCommand, S3Client } from '@aws-sdk/client-s3';
import { Connection } from '@temporalio/client';
import { parse, parseAllDocuments } from 'yaml';
import { OWNER_TAG } from '../../contract/identity.js';
import { kinds } from '../../crds/index.js';
import { searchAttributes } from '../../workflows/messages.js';
import { AwsProxy } from '../support/aws-proxy.js';
import { helmBinary, stackBinary, temporalBinary } from '../support/binaries.js';
import { awsCredentials, providerYaml } from '../support/harness.js';
import { startStack, type LocalStack } from '../support/stack.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const chart = path.join(root, 'deploy/helm/infra-operator');
const release = 'infra-operator';
const namespace = 'infra-operator';
const valuesFiles = ['values.yaml', 'values-dev.yaml', 'values-production.yaml', 'values-localstack.yaml'];

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string }; secretKeyRef?: { name: string; key: string } };
}
interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  ports?: Array<{ name?: string; containerPort: number }>;
  readinessProbe?: { httpGet?: { path: string; port: string | number }; tcpSocket?: { port: string | number } };
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
}
interface Deployment {
  metadata: { name: string };
  spec: { template: { spec: { serviceAccountName?: string; terminationGracePeriodSeconds?: number; containers: Container[] } } };
}
interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  resourceNames?: string[];
  verbs: string[];
}

let stack: LocalStack;
let proxy: AwsProxy;
let helm: string;
let kubectlPath: string;
let temporalPath: string;
/** A copy of the image's /app: dist/ compiled by tsc, as the Dockerfile does. */
let appDirectory: string;
let scratch: string;
const processes: Array<{ name: string; child: ChildProcess; output: string[] }> = [];

async function helmRun(args: string[]): Promise<string> {
  return (await run(helm, args, { cwd: root, maxBuffer: 32 << 20, env: { ...process.env, KUBECONFIG: stack.kubeconfigPath } })).stdout;
}

async function kubectl(args: string[], stdin?: string): Promise<string> {
  const child = run(kubectlPath, ['--kubeconfig', stack.kubeconfigPath, ...args], { cwd: root, maxBuffer: 32 << 20 });
  if (stdin !== undefined) child.child.stdin?.end(stdin);
  return (await child).stdout;
}

async function until<T>(what: string, check: () => Promise<T | undefined | null | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) {
      const tails = processes.map(({ name, output }) => `--- ${name}\n${output.join('').split('\n').slice(-25).join('\n')}`).join('\n');
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${tails}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The image's build step (Dockerfile: `npx tsc -p tsconfig.json`), into a scratch /app under .local/ (ignored by git). */
async function compileApp(directory: string): Promise<void> {
  const tsc = path.join(root, 'node_modules/.bin/tsc');
  // tsc emits even when some file in the tree has a type error (another
  // change in progress); the typecheck step of npm test reports those, so
  // here only the two entry points must exist.
  await run(tsc, ['-p', 'tsconfig.json', '--outDir', path.join(directory, 'dist')], { cwd: root, maxBuffer: 32 << 20 }).catch(() => undefined);
  for (const entry of ['dist/worker/main.js', 'dist/watcher/main.js']) await stat(path.join(directory, entry));
}

/**
 * The copy of the Temporal chart: TEMPORAL_CHART_ARCHIVE, else shared/charts/
 * beside the checkout (where it is on these machines, whatever the clone's
 * folder), else /work/shared/charts/.
 */
async function temporalChartArchive(): Promise<string> {
  const candidates = [
    process.env.TEMPORAL_CHART_ARCHIVE,
    path.join(root, '../shared/charts/temporal-1.6.0.tgz'),
    '/work/shared/charts/temporal-1.6.0.tgz',
  ].filter((candidate): candidate is string => Boolean(candidate));
  for (const candidate of candidates) {
    if (await stat(candidate).then(() => true, () => false)) return candidate;
  }
  throw new Error(`the Temporal chart copy temporal-1.6.0.tgz is in none of ${candidates.join(', ')}: set TEMPORAL_CHART_ARCHIVE to it`);
}

before(async () => {
  helm = await helmBinary();
  kubectlPath = await stackBinary('kubectl');
  temporalPath = await temporalBinary();
  // The official Temporal chart cannot be downloaded on these machines, and
  // helm refuses a chart whose dependency is missing from charts/ even when
  // its condition is off. A copy of the pinned temporal-1.6.0.tgz sits in
  // ../shared/charts/; it goes where `helm dependency update` would put it
  // (charts/ is ignored by git). A user's `helm dependency update` fetches
  // the same file from https://go.temporal.io/helm-charts.
  await mkdir(path.join(chart, 'charts'), { recursive: true });
  await copyFile(await temporalChartArchive(), path.join(chart, 'charts/temporal-1.6.0.tgz'));
  await mkdir(path.join(root, '.local'), { recursive: true });
  appDirectory = await mkdtemp(path.join(root, '.local/helm-app-'));
  scratch = await mkdtemp(path.join(os.tmpdir(), 'helm-test-'));
  // No Temporal from the stack: the chart's own dev server is run below.
  [stack] = await Promise.all([startStack({ components: ['etcd', 'kube', 'moto'] }), compileApp(appDirectory)]);
  proxy = new AwsProxy(stack.awsEndpoint);
  await proxy.start();
  await kubectl(['create', 'namespace', namespace]);
});

after(async () => {
  for (const { child } of processes.reverse()) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }
  await proxy?.stop();
  await stack?.stop();
  if (appDirectory) await rm(appDirectory, { recursive: true, force: true });
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

/** helm template of one values file (values.yaml alone is the chart's defaults). */
async function render(valuesFile: string, extra: string[] = []): Promise<string> {
  const values = valuesFile === 'values.yaml' ? [] : ['-f', path.join(chart, valuesFile)];
  return helmRun(['template', release, chart, '-n', namespace, '--include-crds', ...values, ...extra]);
}

function documents(yaml: string): Array<{ kind: string; metadata: { name: string } }> {
  return parseAllDocuments(yaml)
    .map((document) => document.toJSON() as { kind: string; metadata: { name: string } } | null)
    .filter((document) => document !== null);
}

describe('the chart renders and the API server accepts it', () => {
  for (const valuesFile of valuesFiles) {
    test(`helm lint with ${valuesFile}`, async () => {
      const values = valuesFile === 'values.yaml' ? [] : ['-f', path.join(chart, valuesFile)];
      const output = await helmRun(['lint', chart, '--strict', ...values]);
      assert.match(output, /1 chart\(s\) linted, 0 chart\(s\) failed/);
    });

    test(`helm template with ${valuesFile} | kubectl apply --dry-run=server`, async () => {
      const rendered = await render(valuesFile);
      const output = await kubectl(['apply', '--dry-run=server', '-n', namespace, '-f', '-'], rendered);
      const accepted = output.split('\n').filter((line) => line.endsWith('(server dry run)'));
      assert.equal(accepted.length, documents(rendered).length, output);
      assert.ok(accepted.some((line) => line.startsWith(`deployment.apps/${release}-worker `)), output);
    });
  }

  test('temporal.enabled: the Temporal chart with the documented PostgreSQL values, dry-run on the server', async () => {
    const rendered = await render('values.yaml', ['--set', 'temporal.enabled=true', '--set', 'devServer.enabled=false']);
    const objects = documents(rendered);
    const output = await kubectl(['apply', '--dry-run=server', '-n', namespace, '-f', '-'], rendered);
    assert.equal(output.split('\n').filter((line) => line.endsWith('(server dry run)')).length, objects.length, output);
    assert.ok(objects.some((o) => o.kind === 'Deployment' && o.metadata.name === `${release}-temporal-frontend`));
    const config = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === `${release}-temporal-config`) as unknown as { data: Record<string, string> };
    assert.match(Object.values(config.data).join('\n'), /pluginName: "?postgres12"?/);
    const worker = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === `${release}-worker`) as unknown as Deployment;
    const env = worker.spec.template.spec.containers[0].env ?? [];
    assert.equal(env.find((e) => e.name === 'TEMPORAL_ADDRESS')?.value, `${release}-temporal-frontend.${namespace}.svc:7233`);
  });

  test('no way, or two ways, to reach Temporal is refused at render time', async () => {
    await assert.rejects(render('values-production.yaml', ['--set', 'externalTemporal.address=']), /choose exactly one way to reach Temporal/);
    await assert.rejects(render('values-production.yaml', ['--set', 'devServer.enabled=true']), /choose exactly one way to reach Temporal: .*set: \[devServer.enabled externalTemporal.address\]/);
  });

  test('the optional objects: ServiceMonitor, HPA, NetworkPolicy', async () => {
    const objects = documents(await render('values-production.yaml', ['--set', 'metrics.serviceMonitor.enabled=true']));
    for (const kind of ['ServiceMonitor', 'HorizontalPodAutoscaler', 'NetworkPolicy', 'PodDisruptionBudget']) {
      assert.ok(objects.some((o) => o.kind === kind), `${kind} rendered`);
    }
  });

  test('production: IRSA on the worker only, external Temporal with mTLS, ambient credentials locked to the release namespace', async () => {
    const objects = documents(await render('values-production.yaml'));
    const account = (name: string) => objects.find((o) => o.kind === 'ServiceAccount' && o.metadata.name === name) as unknown as { metadata: { annotations?: Record<string, string> } };
    assert.match(account(`${release}-worker`).metadata.annotations?.['eks.amazonaws.com/role-arn'] ?? '', /^arn:aws:iam::\d{12}:role\//);
    assert.equal(account(`${release}-watcher`).metadata.annotations, undefined);
    const worker = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === `${release}-worker`) as unknown as Deployment;
    const env = Object.fromEntries((worker.spec.template.spec.containers[0].env ?? []).map((e) => [e.name, e.value]));
    assert.equal(env.AMBIENT_CREDENTIAL_NAMESPACES, namespace);
    assert.equal(env.TEMPORAL_TLS, 'true');
    assert.equal(env.TEMPORAL_TLS_CERT_PATH, '/etc/temporal/tls/tls.crt');
    assert.ok(!objects.some((o) => o.metadata.name.includes('temporal-dev')), 'no dev server in production');
  });

  test('NOTES.txt tells a production install what to apply next, and a dev install that it is not for production', async () => {
    const notes = async (valuesFile: string) => {
      const output = await helmRun(['install', release, chart, '-n', namespace, '--dry-run=client', '-f', path.join(chart, valuesFile)]);
      return output.slice(output.indexOf('NOTES:'));
    };
    const production = await notes('values-production.yaml');
    assert.match(production, /kubectl apply -f examples\/provider-local\.yaml/);
    assert.match(production, /carries the IAM role arn:aws:iam::123456789012:role\/infra-operator \(IRSA\)/);
    assert.match(production, /allowed for providers in: infra-operator\./);
    assert.doesNotMatch(production, /NOT FOR PRODUCTION/);
    const dev = await notes('values-dev.yaml');
    assert.match(dev, /NOT FOR PRODUCTION/);
    assert.match(dev, /port-forward svc\/infra-operator-temporal-dev 8233/);
  });

  test('singleProcess: the worker Deployment runs both parts with both environments and both RBACs, dry-run on the server', async () => {
    const twoProcesses = documents(await render('values.yaml'));
    const rendered = await render('values.yaml', ['--set', 'singleProcess=true', '--set', 'networkPolicy.enabled=true']);
    const objects = documents(rendered);
    const output = await kubectl(['apply', '--dry-run=server', '-n', namespace, '-f', '-'], rendered);
    assert.equal(output.split('\n').filter((line) => line.endsWith('(server dry run)')).length, objects.length, output);

    const deployment = (from: typeof objects, name: string) => from.find((o) => o.kind === 'Deployment' && o.metadata.name === name) as unknown as Deployment;
    assert.deepEqual(objects.filter((o) => o.kind === 'Deployment').map((o) => o.metadata.name).sort(), [`${release}-temporal-dev`, `${release}-worker`]);
    const worker = deployment(objects, `${release}-worker`).spec.template.spec;
    const container = worker.containers[0];
    assert.equal(container.command?.at(-1), 'dist/operator/main.js');
    assert.deepEqual(container.command?.slice(0, -1), deployment(twoProcesses, `${release}-worker`).spec.template.spec.containers[0].command?.slice(0, -1), 'the node flags of the worker');
    assert.equal(worker.terminationGracePeriodSeconds, deployment(twoProcesses, `${release}-worker`).spec.template.spec.terminationGracePeriodSeconds);
    // The union of both processes' environments, each variable as that process had it (POD_NAME from the downward API too); the port is the worker's.
    const env = new Map((container.env ?? []).map((variable) => [variable.name, variable]));
    for (const component of ['worker', 'watcher']) {
      for (const variable of deployment(twoProcesses, `${release}-${component}`).spec.template.spec.containers[0].env ?? []) {
        if (component === 'watcher' && variable.name === 'OPERATOR_HTTP_PORT') continue;
        assert.deepEqual(env.get(variable.name), variable, `${variable.name} as the ${component} has it`);
      }
    }
    assert.equal(env.get('LEASE_NAME')?.value, `${release}-watcher`);
    assert.equal(env.get('MAX_INFLIGHT_SIGNALS')?.value, '16');

    // Nothing runs as, selects or scrapes watcher pods that no longer exist; only the watcher's roles keep its name.
    const component = (o: unknown) => (o as { metadata: { labels?: Record<string, string> } }).metadata.labels?.['app.kubernetes.io/component'];
    const leftOver = objects.filter((o) => component(o) === 'watcher' && !o.kind.startsWith('ClusterRole') && !o.kind.startsWith('Role'));
    assert.deepEqual(leftOver.map((o) => `${o.kind}/${o.metadata.name}`), []);
    assert.ok(objects.some((o) => o.kind === 'NetworkPolicy' && o.metadata.name === `${release}-worker`));

    // The worker's ServiceAccount holds exactly what the two held between them.
    const boundRules = (from: typeof objects, account: string): PolicyRule[] =>
      from
        .filter((o) => o.kind === 'ClusterRoleBinding' || o.kind === 'RoleBinding')
        .map((o) => o as unknown as { roleRef: { kind: string; name: string }; subjects: Array<{ kind: string; name: string; namespace?: string }> })
        .filter((binding) => binding.subjects.some((s) => s.kind === 'ServiceAccount' && s.name === account && s.namespace === namespace))
        .flatMap((binding) => (from.find((o) => o.kind === binding.roleRef.kind && o.metadata.name === binding.roleRef.name) as unknown as { rules: PolicyRule[] }).rules);
    const rules = boundRules(objects, `${release}-worker`);
    const allows = (group: string, resource: string, verb: string, name?: string) =>
      rules.some((r) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb) && (!r.resourceNames || (name !== undefined && r.resourceNames.includes(name))));
    for (const verb of ['get', 'update']) assert.ok(allows('coordination.k8s.io', 'leases', verb, `${release}-watcher`), `leases ${verb}`);
    assert.ok(allows('coordination.k8s.io', 'leases', 'create'), 'leases create');
    for (const definition of kinds) {
      for (const verb of ['list', 'watch']) assert.ok(allows('aws-infra-operator.runner.codes', definition.plural, verb), `${definition.plural} ${verb}`);
    }
    const sorted = (list: PolicyRule[]) => list.map((rule) => JSON.stringify(rule)).sort();
    assert.deepEqual(sorted(rules), sorted([...boundRules(twoProcesses, `${release}-worker`), ...boundRules(twoProcesses, `${release}-watcher`)]));
    assert.deepEqual(objects.filter((o) => o.kind === 'ServiceAccount').map((o) => o.metadata.name), [`${release}-worker`]);
  });

  test('RBAC names exactly the kinds of crds/index.ts, each with its status', async () => {
    const objects = documents(await render('values.yaml'));
    const role = objects.find((o) => o.kind === 'ClusterRole' && o.metadata.name === `${release}-worker`) as unknown as {
      rules: Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }>;
    };
    const ours = role.rules.filter((rule) => rule.apiGroups.includes('aws-infra-operator.runner.codes'));
    assert.deepEqual(ours.map((rule) => rule.verbs), [['get', 'list', 'patch'], ['patch']]);
    assert.deepEqual(ours[0].resources, kinds.map((k) => k.plural));
    assert.deepEqual(ours[1].resources, kinds.map((k) => `${k.plural}/status`));
    assert.ok(!role.rules.some((rule) => rule.resources.includes('*') || rule.verbs.includes('*')), 'no wildcards');
  });
});

describe('helm install, then the installed Deployments run as local processes', () => {
  const deployments = new Map<string, Deployment>();

  before(async () => {
    await helmRun(['install', release, chart, '-n', namespace, '-f', path.join(chart, 'values-dev.yaml'), '--wait=false']);
    const list = JSON.parse(await kubectl(['get', 'deployments', '-n', namespace, '-o', 'json'])) as { items: Deployment[] };
    for (const item of list.items) deployments.set(item.metadata.name, item);
  });

  test('install created the objects (no pod runs: the stack has no kubelet)', async () => {
    assert.deepEqual([...deployments.keys()].sort(), [`${release}-temporal-dev`, `${release}-watcher`, `${release}-worker`]);
    const crds = JSON.parse(await kubectl(['get', 'crd', '-o', 'json'])) as { items: Array<{ metadata: { name: string } }> };
    for (const definition of kinds) {
      assert.ok(crds.items.some((crd) => crd.metadata.name === `${definition.plural}.aws-infra-operator.runner.codes`), `CRD of ${definition.kind}`);
    }
    for (const resource of ['serviceaccount/infra-operator-worker', 'serviceaccount/infra-operator-watcher', 'role/infra-operator-watcher-lease', 'service/infra-operator-worker-metrics']) {
      await kubectl(['get', '-n', namespace, resource]);
    }
    await kubectl(['get', 'clusterrole/infra-operator-worker', 'clusterrole/infra-operator-watcher']);
    const pods = JSON.parse(await kubectl(['get', 'pods', '-n', namespace, '-o', 'json'])) as { items: unknown[] };
    assert.equal(pods.items.length, 0);
  });

  test('dev server, worker and watcher from the Deployments reconcile an S3Bucket to Ready in moto', { timeout: 240_000 }, async () => {
    const temporalPort = await freePort();
    const temporalAddress = `127.0.0.1:${temporalPort}`;
    const devServer = deployments.get(`${release}-temporal-dev`)!.spec.template.spec.containers[0];
    startProcess('temporal-dev', temporalPath, overrideArgs(devServer.args ?? [], {
      '--ip': '127.0.0.1',
      '--port': String(temporalPort),
      '--ui-port': String(await freePort()),
      '--db-filename': path.join(scratch, 'temporal.db'),
    }), { PATH: process.env.PATH ?? '', HOME: scratch }, scratch);
    await until('the dev server answers', async () => {
      const connection = await Connection.connect({ address: temporalAddress, connectTimeout: 2000 });
      await connection.close();
      return true;
    });
    const fresh = await Connection.connect({ address: temporalAddress });
    try {
      const before = await fresh.operatorService.listSearchAttributes({ namespace: 'default' });
      assert.ok(!('ResourceKind' in (before.customAttributes ?? {})), 'a fresh server: the operator\'s search attributes are not registered yet');
    } finally {
      await fresh.close();
    }

    const httpPorts: Record<string, number> = {};
    for (const component of ['worker', 'watcher']) {
      const deployment = deployments.get(`${release}-${component}`)!;
      const container = deployment.spec.template.spec.containers[0];
      const [command, ...args] = [...(container.command ?? []), ...(container.args ?? [])];
      assert.equal(command, 'node', `${component} runs node`);
      httpPorts[component] = await freePort();
      const kubeconfig = await serviceAccountKubeconfig(deployment.spec.template.spec.serviceAccountName!);
      const env = await containerEnv(container, `${deployment.metadata.name}-local`);
      assert.equal(env.OPERATOR_HTTP_PORT, String(container.ports?.find((p) => p.name === 'http')?.containerPort), 'the probes\' port is OPERATOR_HTTP_PORT');
      startProcess(component, process.execPath, args, {
        ...env,
        PATH: process.env.PATH ?? '',
        TEMPORAL_ADDRESS: temporalAddress,
        OPERATOR_HTTP_PORT: String(httpPorts[component]),
        KUBECONFIG: kubeconfig,
      }, appDirectory);
    }
    // The readiness probe as the kubelet would call it: the Deployment's path on the port named http.
    for (const component of ['worker', 'watcher']) {
      const probe = deployments.get(`${release}-${component}`)!.spec.template.spec.containers[0].readinessProbe?.httpGet;
      assert.equal(probe?.port, 'http');
      await until(`${component} ${probe?.path} answers 200`, async () => (await fetch(`http://127.0.0.1:${httpPorts[component]}${probe?.path}`)).ok, 120_000);
    }

    const bucketName = `helm-${randomUUID().slice(0, 8)}`;
    await kubectl(['apply', '-f', '-'], providerYaml({ provider: 'helm-aws', secret: 'helm-aws-keys', endpoint: proxy.url, secretAccessKey: `helm-${randomUUID()}` }));
    await kubectl(['apply', '-f', '-'], `
apiVersion: aws-infra-operator.runner.codes/v1alpha1
kind: S3Bucket
metadata: { name: helm-bucket, namespace: default }
spec:
  providerRef: { name: helm-aws }
  bucketName: ${bucketName}
`);
    await until('S3Bucket helm-bucket Ready', async () => {
      const object = JSON.parse(await kubectl(['get', 's3bucket', 'helm-bucket', '-o', 'json'])) as { status?: { ready?: boolean } };
      return object.status?.ready === true;
    }, 180_000);

    assert.ok(proxy.count('CreateBucket') >= 1, 'the bucket was created through the AWS proxy');
    const s3 = new S3Client({
      region: awsCredentials.region,
      endpoint: stack.awsEndpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: 'verifier', secretAccessKey: 'verifier' },
    });
    const tags = await s3.send(new GetBucketTaggingCommand({ Bucket: bucketName }));
    assert.ok(tags.TagSet?.some((tag) => tag.Key === OWNER_TAG), 'the bucket in moto carries the operator\'s owner tag');

    const connection = await Connection.connect({ address: temporalAddress });
    try {
      const registered = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
      for (const key of Object.values(searchAttributes)) {
        assert.ok(key.name in (registered.customAttributes ?? {}), `the worker registered ${key.name} on the fresh server`);
      }
    } finally {
      await connection.close();
    }
  });
});

/** Replaces the value after each flag in `overrides` (a listen address or a file path), keeping every other argument. */
function overrideArgs(args: string[], overrides: Record<string, string>): string[] {
  const result = [...args];
  for (const [flag, value] of Object.entries(overrides)) {
    const index = result.indexOf(flag);
    if (index >= 0) result[index + 1] = value;
  }
  return result;
}

/**
 * The container's environment as the kubelet would build it: literal
 * values, fieldRefs of the pod (its name and namespace), and Secret keys
 * from the API server. Anything else fails the test rather than being guessed.
 */
async function containerEnv(container: Container, podName: string): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  for (const variable of container.env ?? []) {
    if (variable.value !== undefined) env[variable.name] = variable.value;
    else if (variable.valueFrom?.fieldRef?.fieldPath === 'metadata.name') env[variable.name] = podName;
    else if (variable.valueFrom?.fieldRef?.fieldPath === 'metadata.namespace') env[variable.name] = namespace;
    else if (variable.valueFrom?.secretKeyRef) {
      const { name, key } = variable.valueFrom.secretKeyRef;
      const secret = parse(await kubectl(['get', 'secret', name, '-n', namespace, '-o', 'yaml'])) as { data: Record<string, string> };
      env[variable.name] = Buffer.from(secret.data[key] ?? '', 'base64').toString();
    } else throw new Error(`${container.name}: environment variable ${variable.name} has a source this test cannot resolve`);
  }
  return env;
}

/** A kubeconfig for the stack's API server that authenticates as the chart's ServiceAccount, as the pod's mounted token would. */
async function serviceAccountKubeconfig(serviceAccount: string): Promise<string> {
  const token = (await kubectl(['create', 'token', serviceAccount, '-n', namespace, '--duration', '2h'])).trim();
  const admin = parse(await readFile(stack.kubeconfigPath, 'utf8')) as { clusters: Array<{ name: string; cluster: Record<string, string> }> };
  const cluster = admin.clusters[0];
  const file = path.join(scratch, `${serviceAccount}.kubeconfig`);
  await writeFile(
    file,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [cluster],
      users: [{ name: serviceAccount, user: { token } }],
      contexts: [{ name: serviceAccount, context: { cluster: cluster.name, user: serviceAccount } }],
      'current-context': serviceAccount,
    }),
  );
  return file;
}

function startProcess(name: string, executable: string, args: string[], env: Record<string, string>, cwd: string): void {
  const child = spawn(executable, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const collect = (chunk: Buffer) => {
    output.push(chunk.toString());
    if (process.env.DEBUG_OPERATOR) process.stderr.write(`[${name}] ${chunk.toString()}`);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  processes.push({ name, child, output });
}
