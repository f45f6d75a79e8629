/**
 * The drift sweep on the real stack: ten VPCs Ready, then at rest every
 * sweep pass costs one DescribeVpcs for all of them (counted at the AWS
 * proxy) and their workflows sleep on the safety net (the harness's 3 s
 * resync is never used once in sync). A tag changed behind the operator's
 * back on one VPC is found by that one list call and repaired, and only
 * that VPC's workflow receives a driftDetected signal; a VPC deleted behind
 * its back is made again.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CreateTagsCommand, DeleteVpcCommand, DescribeVpcsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { workflowIdFor } from '../../contract/identity.js';
import { driftSweepWorkflowId } from '../../workflows/messages.js';
import { awsCredentials, providerName, readyCondition, startHarness, type CustomObject, type Harness } from '../support/harness.js';
import type { ProxyCall } from '../support/aws-proxy.js';

const VPCS = 10;
const WAIT_MS = 90_000;
const names = Array.from({ length: VPCS }, (_, index) => `swept-${index}`);

let h: Harness;
let ec2: EC2Client;

before(async () => {
  h = await startHarness({ SWEEP_SECONDS: '2' });
  ec2 = new EC2Client({
    region: awsCredentials.region,
    endpoint: h.stack.awsEndpoint,
    credentials: { accessKeyId: 'verifier', secretAccessKey: 'verifier' },
  });
});

after(async () => {
  await h?.teardown();
});

function vpcYaml(name: string, index: number): string {
  return `
apiVersion: aws-infra-operator.runner.codes/v1alpha1
kind: VPC
metadata: { name: ${name}, namespace: default }
spec:
  providerRef: { name: ${providerName} }
  cidrBlock: 10.${100 + index}.0.0/16
  enableDnsHostnames: true
  tags: { team: platform }
`;
}

async function vpc(name: string): Promise<CustomObject | null> {
  return h.get('vpcs', name);
}

async function tagsOf(vpcID: string): Promise<Record<string, string>> {
  const found = await ec2.send(new DescribeVpcsCommand({ VpcIds: [vpcID] }));
  return Object.fromEntries((found.Vpcs?.[0]?.Tags ?? []).map((tag) => [tag.Key ?? '', tag.Value ?? '']));
}

const isDescribeVpcs = (call: ProxyCall) => call.operation === 'DescribeVpcs';
/** The sweep's list: filtered by the cluster tag alone, no VPC ID. */
const isSweepList = (call: ProxyCall) => isDescribeVpcs(call) && !call.body.toString('utf8').includes('VpcId.');

/** Sweep passes the sweep workflow has completed so far. */
async function sweepPasses(clusterID: string): Promise<number> {
  const history = await h.temporal.workflow.getHandle(driftSweepWorkflowId(clusterID)).fetchHistory();
  return (history.events ?? []).filter((event) => event.activityTaskCompletedEventAttributes).length;
}

/** driftDetected signals in a workflow's history, and how long the history is. */
async function workflowHistory(name: string): Promise<{ driftSignals: number; length: number }> {
  const history = await h.temporal.workflow.getHandle(workflowIdFor({ kind: 'VPC', namespace: 'default', name })).fetchHistory();
  const events = history.events ?? [];
  return {
    driftSignals: events.filter((event) => event.workflowExecutionSignaledEventAttributes?.signalName === 'driftDetected').length,
    length: events.length,
  };
}

describe('drift sweep, on the real stack', () => {
  test('one DescribeVpcs a pass finds an out-of-band change to one of ten VPCs, which is repaired; only its workflow is woken', async () => {
    await h.apply(names.map((name, index) => vpcYaml(name, index)).join('---\n'));
    const ready = await h.until(
      'ten VPCs Ready',
      async () => {
        const all = await Promise.all(names.map(vpc));
        return all.every((object) => object?.status?.ready === true) ? all : null;
      },
      WAIT_MS,
    );
    const ids = ready.map((object) => String(object?.status?.vpcID));
    const clusterID = (await h.kubectl(['get', 'namespace', 'kube-system', '-o', 'jsonpath={.metadata.uid}'])).trim();

    // At rest: let a few passes go by after the last workflow went to sleep.
    await h.until('a sweep pass', async () => (await sweepPasses(clusterID)) >= 1, WAIT_MS);
    const restCalls = h.proxy.calls.length;
    const restPasses = await sweepPasses(clusterID);
    const restHistories = await Promise.all(names.map(workflowHistory));
    await h.until('four more sweep passes', async () => (await sweepPasses(clusterID)) >= restPasses + 4, WAIT_MS);
    const passes = (await sweepPasses(clusterID)) - restPasses;
    const atRest = h.proxy.calls.slice(restCalls);
    const lists = atRest.filter(isSweepList).length;
    assert.ok(lists >= passes - 1 && lists <= passes + 1, `one DescribeVpcs per pass for all ten VPCs: ${lists} lists in ${passes} passes`);
    assert.equal(atRest.filter((call) => isDescribeVpcs(call) && !isSweepList(call)).length, 0, 'no VPC looked up by its own ID');
    assert.equal(atRest.filter((call) => call.operation === 'DescribeVpcAttribute').length, 0, 'no per-VPC attribute reads');
    // The provider is swept too: its observe is one GetCallerIdentity a pass.
    const providerChecks = atRest.filter((call) => call.operation === 'GetCallerIdentity').length;
    assert.ok(providerChecks <= passes + 1, `one provider check per pass: ${providerChecks} in ${passes} passes`);
    assert.deepEqual(
      atRest.map((call) => call.operation).filter((operation) => operation !== 'DescribeVpcs' && operation !== 'GetCallerIdentity'),
      [],
      'nothing but the sweep looks at AWS at rest',
    );
    const quiet = await Promise.all(names.map(workflowHistory));
    assert.deepEqual(
      quiet.map((history) => history.length),
      restHistories.map((history) => history.length),
      'no VPC workflow ran a pass at rest (the 3 s resync is not used once in sync)',
    );

    // Behind the operator's back: one VPC's tag changed.
    const drifted = 3;
    const driftedID = ids[drifted] ?? '';
    const before = h.proxy.calls.length;
    await ec2.send(new CreateTagsCommand({ Resources: [driftedID], Tags: [{ Key: 'team', Value: 'intruder' }] }));
    await h.until('the tag repaired', async () => (await tagsOf(driftedID)).team === 'platform', WAIT_MS);
    const events = await h.until(
      'a DriftRepaired Event',
      async () => {
        const list = JSON.parse(await h.kubectl(['get', 'events', '-n', 'default', '-o', 'json'])) as {
          items: Array<{ reason?: string; message?: string; involvedObject: { name?: string } }>;
        };
        const repaired = list.items.filter((event) => event.reason === 'DriftRepaired' && event.involvedObject.name === names[drifted]);
        return repaired.length ? repaired : null;
      },
      WAIT_MS,
    );
    assert.match(events[0]?.message ?? '', /tags/);
    const repairCalls = h.proxy.calls.slice(before);
    assert.ok(repairCalls.some((call) => call.operation === 'CreateTags'), 'the operator wrote the tag back');

    const after = await Promise.all(names.map(workflowHistory));
    assert.ok((after[drifted]?.driftSignals ?? 0) >= 1, 'the drifted VPC was woken by driftDetected');
    for (const [index, history] of after.entries()) {
      if (index === drifted) continue;
      assert.equal(history.driftSignals, 0, `${names[index]} was not signalled`);
      assert.equal(history.length, quiet[index]?.length, `${names[index]} did not run a pass`);
    }
    assert.equal(readyCondition(await vpc(names[drifted] ?? ''))?.status, 'True');
  });

  test('a VPC deleted behind the operator is missing from the sweep list, and its workflow makes it again', async () => {
    const gone = names[7] ?? '';
    const object = await vpc(gone);
    const oldID = String(object?.status?.vpcID);
    assert.match(oldID, /^vpc-/);
    await ec2.send(new DeleteVpcCommand({ VpcId: oldID }));
    const remade = await h.until(
      'a new VPC in status',
      async () => {
        const current = await vpc(gone);
        const id = current?.status?.vpcID;
        return current?.status?.ready === true && typeof id === 'string' && id !== oldID ? current : null;
      },
      WAIT_MS,
    );
    assert.equal((await workflowHistory(gone)).driftSignals >= 1, true, 'woken by the sweep');
    assert.equal((await tagsOf(String(remade.status?.vpcID))).team, 'platform');
  });
});
