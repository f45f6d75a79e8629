/**
 * The engine under a burst, on the real stack: 200 custom resources created
 * at once converge with no workflow task timed out (each one a task the
 * server gave up on and a worker redid), and a resync of an unchanged
 * resource writes nothing to Kubernetes, counted at the API server itself.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import proto from '@temporalio/proto';
import { API_GROUP, API_VERSION } from '../../crds/index.js';
import { workflowIdFor } from '../../contract/identity.js';
import { kubeClients, kubeConfigFromFiles, type KubeClients } from '../../kube/client.js';
import { providerName, startHarness, type Harness } from '../support/harness.js';

const EventType = proto.temporal.api.enums.v1.EventType;
const BURST = 200;

let h: Harness;
let kube: KubeClients;

before(async () => {
  h = await startHarness();
  const config = kubeConfigFromFiles([h.stack.kubeconfigPath]);
  kube = kubeClients(config);
  await h.until('provider Ready', async () => (await h.get('awsproviders', providerName))?.status?.ready === true, 120_000);
});

after(async () => {
  await h?.teardown();
});

function queue(name: string) {
  return {
    apiVersion: `${API_GROUP}/${API_VERSION}`,
    kind: 'SQSQueue',
    metadata: { name, namespace: 'default' },
    spec: { providerRef: { name: providerName }, queueName: name },
  };
}

interface Listed {
  metadata: { name: string; generation: number };
  status?: { ready?: boolean; observedGeneration?: number };
}

async function readyQueues(prefix: string): Promise<number> {
  const list = (await kube.custom.listNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace: 'default', plural: 'sqsqueues' })) as {
    items: Listed[];
  };
  return list.items.filter(
    (item) => item.metadata.name.startsWith(prefix) && item.status?.ready === true && item.status.observedGeneration === item.metadata.generation,
  ).length;
}

/** Status writes of one resource type seen by the API server since it started (apiserver_request_total). */
async function statusPatches(resource: string): Promise<number> {
  const metrics = await h.kubectl(['get', '--raw', '/metrics']);
  return metrics
    .split('\n')
    .filter(
      (line) =>
        line.startsWith('apiserver_request_total{') &&
        line.includes(`resource="${resource}"`) &&
        line.includes('subresource="status"') &&
        /verb="(PATCH|PUT|APPLY)"/.test(line),
    )
    .reduce((total, line) => total + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

describe('a resync of an unchanged resource', () => {
  test('reads AWS and writes nothing to Kubernetes', { timeout: 300_000 }, async () => {
    const name = 'quiet-queue';
    await h.apply(`
apiVersion: aws-infra-operator.runner.codes/v1alpha1
kind: SQSQueue
metadata: { name: ${name}, namespace: default }
spec:
  providerRef: { name: ${providerName} }
  queueName: ${name}
  visibilityTimeout: 45
`);
    await h.until(`${name} Ready`, async () => (await h.get('sqsqueues', name))?.status?.ready === true, 120_000);
    // Let the writes of converging (the Ready status, a late retry) settle:
    // a look at AWS after Ready proves the workflow is past them.
    const lookedAt = () => h.proxy.calls.filter((call) => call.operation === 'GetQueueAttributes' && call.body.toString().includes(name)).length;
    const readyLooks = lookedAt();
    await h.until('first check after Ready', async () => lookedAt() > readyLooks, 120_000);
    const objectBefore = await h.get('sqsqueues', name);
    const patchesBefore = await statusPatches('sqsqueues');
    const looksBefore = lookedAt();
    // Three more checks of AWS (the harness resyncs every 3 s).
    await h.until('three drift checks of the queue', async () => lookedAt() >= looksBefore + 3, 120_000);
    const objectAfter = await h.get('sqsqueues', name);
    assert.equal(await statusPatches('sqsqueues'), patchesBefore, 'a status write happened on an unchanged resync');
    assert.equal(
      (objectAfter?.metadata as { resourceVersion?: string } | undefined)?.resourceVersion,
      (objectBefore?.metadata as { resourceVersion?: string } | undefined)?.resourceVersion,
    );
  });
});

describe('a burst of custom resources', () => {
  test(`${BURST} SQSQueues created at once converge with no workflow-task timeout`, { timeout: 1_200_000 }, async () => {
    const names = Array.from({ length: BURST }, (_, i) => `burst-${i}`);
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < names.length) {
          const name = names[next++];
          await kube.custom.createNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace: 'default', plural: 'sqsqueues', body: queue(name) });
        }
      }),
    );
    await h.until(`${BURST} queues Ready`, async () => (await readyQueues('burst-')) === BURST, 900_000);

    let timeouts = 0;
    let histories = 0;
    const kinds: string[] = [];
    for (const name of names) {
      const history = await h.temporal.workflow.getHandle(workflowIdFor({ kind: 'SQSQueue', namespace: 'default', name })).fetchHistory();
      histories++;
      for (const event of history.events ?? []) {
        if (event.eventType !== EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT) continue;
        timeouts++;
        kinds.push(`${name}: ${String(event.workflowTaskTimedOutEventAttributes?.timeoutType)} at event ${String(event.eventId)}`);
      }
    }
    assert.equal(histories, BURST);
    assert.equal(timeouts, 0, `${timeouts} workflow tasks timed out across ${BURST} histories (timeout type, 1 start-to-close, 2 schedule-to-start): ${kinds.join('; ')}`);
    const workerLog = h.operator.output.join('');
    assert.doesNotMatch(workerLog, /Workflow task (not found|duration exceeded)|untracked local activity/i);
  });
});
