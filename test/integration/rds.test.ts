/**
 * RDS on the real stack: the guide's RDS manifests, a spec change, drift
 * repair, a password change, every deletion policy (final snapshot,
 * skipFinalSnapshot, Retain, deletion protection), a database tier in one
 * apply by references, and a held 60 s `creating` (moto is instant; the
 * proxy makes it slow) that holds no activity slot and survives a worker
 * restart. Last, no password shows up in any history, log, Event or status.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import {
  CreateDBParameterGroupCommand,
  CreateDBSubnetGroupCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  ModifyDBInstanceCommand,
  RDSClient,
  type DBInstance,
} from '@aws-sdk/client-rds';
import { CreateSubnetCommand, CreateVpcCommand, EC2Client } from '@aws-sdk/client-ec2';
import { parseAllDocuments } from 'yaml';
import { OWNER_TAG } from '../../contract/identity.js';
import { finalSnapshotIdentifier, PASSWORD_VERSION_TAG } from '../../activities/aws/rds/instance.js';
import { awsCredentials, providerName, readyCondition, startHarness, type CustomObject, type Harness } from '../support/harness.js';
import { historyText } from '../support/history-text.js';
import { slowState, type SlowStateOptions } from '../support/slow-state.js';

const WAIT_MS = 90_000;
const HOLD_MS = 60_000;

let h: Harness;
let rds: RDSClient;
let ec2: EC2Client;
/** Every password this file sets; none may appear outside AWS requests and the connection Secret. */
const passwords: string[] = [];
/** Statuses captured along the way (objects are gone by the end). */
const statuses: string[] = [];

const password = (label: string): string => {
  const value = `pw-${label}-${randomUUID()}`;
  passwords.push(value);
  return value;
};

const rdsSlowness: Omit<SlowStateOptions, 'createMs' | 'modifyMs'> = {
  createOperations: ['CreateDBInstance'],
  modifyOperations: ['ModifyDBInstance'],
  describeOperation: 'DescribeDBInstances',
  itemTag: 'DBInstance',
  idTag: 'DBInstanceIdentifier',
  statusTag: 'DBInstanceStatus',
  createState: 'creating',
  modifyState: 'modifying',
};

before(async () => {
  h = await startHarness();
  const config = {
    region: awsCredentials.region,
    endpoint: h.stack.awsEndpoint,
    credentials: { accessKeyId: 'verifier', secretAccessKey: 'verifier' },
  };
  rds = new RDSClient(config);
  ec2 = new EC2Client(config);
});

after(async () => {
  await h?.teardown();
});

function secretYaml(name: string, value: string): string {
  return `apiVersion: v1
kind: Secret
metadata: { name: ${name}, namespace: default }
type: Opaque
stringData: { password: ${value} }
`;
}

async function instance(identifier: string): Promise<DBInstance | undefined> {
  try {
    return (await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: identifier }))).DBInstances?.[0];
  } catch (error) {
    if ((error as Error).name === 'DBInstanceNotFoundFault') return undefined;
    throw error;
  }
}

function tagsOf(found: DBInstance | undefined): Record<string, string> {
  return Object.fromEntries((found?.TagList ?? []).map((tag) => [tag.Key ?? '', tag.Value ?? '']));
}

async function snapshotExists(identifier: string): Promise<boolean> {
  try {
    return ((await rds.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: identifier }))).DBSnapshots?.length ?? 0) > 0;
  } catch (error) {
    if ((error as Error).name === 'DBSnapshotNotFoundFault') return false;
    throw error;
  }
}

async function ready(resource: string, name: string, generation?: number, timeoutMs = WAIT_MS): Promise<CustomObject> {
  return h.until(
    `${resource}/${name} Ready`,
    async () => {
      const object = await h.get(resource, name);
      const upToDate = generation === undefined || object?.status?.observedGeneration === generation;
      return object?.status?.ready && upToDate ? object : null;
    },
    timeoutMs,
  );
}

/** The statuses only: a spec with an inline password holds it by the user's own choice. */
async function captureStatuses(): Promise<void> {
  const list = JSON.parse(await h.kubectl(['get', 'rdsinstances,dbsubnetgroups', '-A', '-o', 'json'])) as { items: CustomObject[] };
  statuses.push(JSON.stringify(list.items.map((item) => item.status)));
}

async function gone(resource: string, name: string): Promise<void> {
  await h.until(`${resource}/${name} gone`, async () => (await h.get(resource, name)) === null, WAIT_MS);
}

function modifyCalls(since: number): string[] {
  return h.proxy.calls.slice(since).filter((call) => call.operation === 'ModifyDBInstance').map((call) => call.body.toString('utf8'));
}


/** The guide's manifests of one kind from an example file, Secrets left out (the test writes its own). */
async function exampleResources(file: string): Promise<Array<{ kind: string; name: string; text: string }>> {
  const text = await readFile(new URL(`../../examples/${file}`, import.meta.url), 'utf8');
  return parseAllDocuments(text)
    .map((document) => ({ manifest: document.toJS() as { kind: string; metadata: { name: string } }, text: document.toString() }))
    .filter(({ manifest }) => manifest.kind !== 'Secret')
    .map(({ manifest, text: doc }) => ({ kind: manifest.kind, name: manifest.metadata.name, text: doc }));
}

describe('RDS on the real stack', () => {
  test("the guide's RDS manifests become Ready and exist in AWS as written", async () => {
    // What the guide's manifests name but do not make: a DB subnet group and a parameter group.
    const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.50.0.0/16' }));
    const subnets = await Promise.all(
      ['a', 'b'].map((zone, i) =>
        ec2.send(new CreateSubnetCommand({ VpcId: vpc.Vpc?.VpcId, CidrBlock: `10.50.${i}.0/24`, AvailabilityZone: `us-east-1${zone}` })),
      ),
    );
    await rds.send(
      new CreateDBSubnetGroupCommand({
        DBSubnetGroupName: 'production-db-subnet-group',
        DBSubnetGroupDescription: 'made outside the operator for the guide manifest',
        SubnetIds: subnets.map((subnet) => subnet.Subnet?.SubnetId ?? ''),
      }),
    );
    await rds.send(new CreateDBParameterGroupCommand({ DBParameterGroupName: 'custom-mysql-params', DBParameterGroupFamily: 'mysql8.0', Description: 'guide' }));

    const documents = await exampleResources('rds-instance.yaml');
    assert.deepEqual(documents.map((d) => d.name), ['production-postgres', 'app-mysql']);
    // moto (5.2.5) counts windows that only touch (03:00-04:00 and sun:04:00-05:00) as overlapping and
    // refuses them; AWS accepts them. The one edit to the guide's text, for moto's sake.
    const manifests = documents.map((d) => d.text.replace('preferredBackupWindow: "03:00-04:00"', 'preferredBackupWindow: "03:00-03:59"'));
    const callsBefore = h.proxy.calls.length;
    const started = performance.now();
    await h.apply(
      [secretYaml('postgres-password', password('postgres')), secretYaml('mysql-password', password('mysql')), ...manifests].join('\n---\n'),
    );
    const postgresObject = await ready('rdsinstances', 'production-postgres');
    const mysqlObject = await ready('rdsinstances', 'app-mysql');
    const elapsed = performance.now() - started;
    const calls = h.proxy.calls.slice(callsBefore).filter((call) => call.service === 'rds');
    console.log(`RDSInstance guide manifests (2) apply -> Ready: ${elapsed.toFixed(0)} ms, ${calls.length} RDS calls (${[...new Set(calls.map((c) => c.operation))].join(', ')})`);

    const postgres = await instance('production-postgres-01');
    assert.ok(postgres, 'the postgres instance exists in AWS');
    assert.equal(postgres.DBInstanceClass, 'db.t3.medium');
    assert.equal(postgres.Engine, 'postgres');
    assert.equal(postgres.EngineVersion, '14.7');
    assert.equal(postgres.AllocatedStorage, 100);
    assert.equal(postgres.StorageType, 'gp3');
    assert.equal(postgres.StorageEncrypted, true);
    assert.equal(postgres.MasterUsername, 'postgres');
    assert.equal(postgres.MultiAZ, true);
    assert.equal(postgres.BackupRetentionPeriod, 7);
    assert.equal(postgres.PreferredMaintenanceWindow, 'sun:04:00-sun:05:00');
    assert.equal(postgres.DBSubnetGroup?.DBSubnetGroupName, 'production-db-subnet-group');
    assert.deepEqual(postgres.VpcSecurityGroups?.map((group) => group.VpcSecurityGroupId), ['sg-xxx']);
    assert.equal(postgres.DeletionProtection, true);
    const tags = tagsOf(postgres);
    assert.equal(tags.Application, 'main-app');
    assert.equal(tags.Environment, 'production');
    assert.equal(tags[OWNER_TAG], 'RDSInstance/default/production-postgres');
    assert.match(String(tags[PASSWORD_VERSION_TAG]), /^secret:/, 'the password is tracked by version, not value');
    const mysql = await instance('app-mysql-01');
    assert.equal(mysql?.Engine, 'mysql');
    assert.equal(mysql?.DBParameterGroups?.[0]?.DBParameterGroupName, 'custom-mysql-params');
    assert.equal(mysql?.AllocatedStorage, 50);

    assert.equal(postgresObject.status?.dbInstanceIdentifier, 'production-postgres-01');
    assert.equal(postgresObject.status?.dbInstanceStatus, 'available');
    assert.equal(postgresObject.status?.endpoint, postgres.Endpoint?.Address);
    assert.equal(postgresObject.status?.port, 5432);
    assert.equal(postgresObject.status?.arn, postgres.DBInstanceArn);
    assert.equal(postgresObject.status?.externalID, 'production-postgres-01');
    assert.equal(mysqlObject.status?.finalSnapshotIdentifier, finalSnapshotIdentifier('app-mysql-01', mysqlObject.metadata.uid));
    await captureStatuses();
  });

  test('a spec change is applied immediately, and a change made in AWS is repaired', async () => {
    const since = h.proxy.calls.length;
    await h.kubectl(['patch', 'rdsinstance', 'app-mysql', '--type=merge', '-p', '{"spec":{"dbInstanceClass":"db.t3.medium","allocatedStorage":60}}']);
    const object = await h.get('rdsinstances', 'app-mysql');
    await ready('rdsinstances', 'app-mysql', object?.metadata.generation);
    const mysql = await instance('app-mysql-01');
    assert.equal(mysql?.DBInstanceClass, 'db.t3.medium');
    assert.equal(mysql?.AllocatedStorage, 60);
    const modify = modifyCalls(since);
    assert.equal(modify.length, 1, 'one ModifyDBInstance for both fields');
    assert.match(modify[0] ?? '', /ApplyImmediately=true/);
    assert.doesNotMatch(modify[0] ?? '', /MasterUserPassword/, 'an unchanged password is not sent again');

    await rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: 'app-mysql-01', BackupRetentionPeriod: 1, ApplyImmediately: true }));
    await h.until('backup retention repaired', async () => (await instance('app-mysql-01'))?.BackupRetentionPeriod === 7, WAIT_MS);
    const events = JSON.parse(await h.kubectl(['get', 'events', '-n', 'default', '-o', 'json'])) as {
      items: Array<{ reason: string; message: string; involvedObject: { name?: string } }>;
    };
    const repaired = events.items.find((event) => event.reason === 'DriftRepaired' && event.involvedObject.name === 'app-mysql');
    assert.match(repaired?.message ?? '', /backupRetentionPeriod: 1 -> 7/);
  });

  test('a new password in the Secret is applied as a password change, its value never echoed', async () => {
    const since = h.proxy.calls.length;
    const changed = password('mysql-changed');
    await h.apply(secretYaml('mysql-password', changed));
    const body = await h.until(
      'ModifyDBInstance with the new password',
      async () => modifyCalls(since).find((call) => call.includes('MasterUserPassword=')),
      WAIT_MS,
    );
    assert.ok(body.includes(`MasterUserPassword=${encodeURIComponent(changed)}`), 'AWS got the new value');
    await h.until(
      'password version tag moved',
      async () => {
        const tags = tagsOf(await instance('app-mysql-01'));
        const secret = JSON.parse(await h.kubectl(['get', 'secret', 'mysql-password', '-o', 'json'])) as { metadata: { resourceVersion: string } };
        return String(tags[PASSWORD_VERSION_TAG]).endsWith(`:${secret.metadata.resourceVersion}`);
      },
      WAIT_MS,
    );
    await ready('rdsinstances', 'app-mysql');
    const passes = h.proxy.calls.length;
    // Settled: a few resyncs later the password is not sent again.
    await h.until('three more looks', async () => h.proxy.calls.slice(passes).filter((c) => c.operation === 'DescribeDBInstances').length >= 6, WAIT_MS);
    assert.equal(modifyCalls(passes).length, 0, 'no ModifyDBInstance once the new password is applied');
    await captureStatuses();
  });

  test("an inline masterUserPassword (the earlier operator's samples) works, is warned about, and never enters the workflow", async () => {
    const inline = password('inline');
    await h.apply(`apiVersion: aws-infra-operator.runner.codes/v1alpha1
kind: RDSInstance
metadata: { name: legacy-db, namespace: default }
spec:
  providerRef: { name: ${providerName} }
  dbInstanceIdentifier: legacy-db
  dbInstanceClass: db.t3.micro
  engine: postgres
  masterUsername: legacy
  masterUserPassword: ${inline}
  allocatedStorage: 20
  deletionProtection: true
  writeConnectionSecretToRef: { name: legacy-db-connection }
  deletionPolicy: Delete
`);
    const object = await ready('rdsinstances', 'legacy-db');
    const created = h.proxy.calls.find((call) => call.operation === 'CreateDBInstance' && call.body.toString('utf8').includes('legacy-db'));
    assert.ok(created?.body.toString('utf8').includes(`MasterUserPassword=${encodeURIComponent(inline)}`), 'AWS got the inline password');
    const events = JSON.parse(await h.kubectl(['get', 'events', '-n', 'default', '-o', 'json'])) as {
      items: Array<{ reason: string; type: string; message: string; involvedObject: { name?: string } }>;
    };
    const warning = events.items.find((event) => event.reason === 'InlineSecret' && event.involvedObject.name === 'legacy-db');
    assert.equal(warning?.type, 'Warning');
    assert.match(warning?.message ?? '', /masterUserPasswordSecretRef/);
    const connection = await h.until(
      'connection Secret written',
      async () => {
        try {
          return JSON.parse(await h.kubectl(['get', 'secret', 'legacy-db-connection', '-o', 'json'])) as { data: Record<string, string> };
        } catch {
          return null;
        }
      },
      WAIT_MS,
    );
    const decoded = (key: string) => Buffer.from(connection.data[key] ?? '', 'base64').toString('utf8');
    assert.equal(decoded('password'), inline);
    assert.equal(decoded('username'), 'legacy');
    assert.equal(decoded('endpoint'), object.status?.endpoint);
    assert.equal(decoded('port'), '5432');
    await captureStatuses();
  });

  test('a 60 s creating holds no activity slot, survives a worker restart, and is polled about every 15 s', async () => {
    const slow = slowState(h.proxy, { ...rdsSlowness, createMs: HOLD_MS, modifyMs: 0 });
    // When each look at slow-db reached AWS (the other instances are looked at too, on their own resyncs).
    const looks: number[] = [];
    const stopRecording = h.proxy.intercept((call) => {
      if (call.operation === 'DescribeDBInstances' && new URLSearchParams(call.body.toString('utf8')).get('DBInstanceIdentifier') === 'slow-db') {
        looks.push(Date.now());
      }
      return undefined;
    });
    try {
      await h.apply(`${secretYaml('slow-db-password', password('slow'))}---
apiVersion: aws-infra-operator.runner.codes/v1alpha1
kind: RDSInstance
metadata: { name: slow-db, namespace: default }
spec:
  providerRef: { name: ${providerName} }
  dbInstanceIdentifier: slow-db
  dbInstanceClass: db.t3.micro
  engine: postgres
  masterUsername: slow
  masterUserPasswordSecretRef: { name: slow-db-password, key: password }
  allocatedStorage: 20
  skipFinalSnapshot: true
  deletionPolicy: Delete
`);
      const holdEnds = await h.until('CreateDBInstance of slow-db', async () => slow.heldUntil('slow-db'), WAIT_MS);
      const creating = await h.until('slow-db shown creating', async () => {
        const object = await h.get('rdsinstances', 'slow-db');
        return object?.status?.dbInstanceStatus === 'creating' ? object : null;
      });
      assert.equal(creating.status?.phase, 'Provisioning');
      assert.equal(readyCondition(creating)?.status, 'False');

      const workflow = h.temporal.workflow.getHandle('RDSInstance/default/slow-db');
      const pendingSamples: number[] = [];
      const sample = async () => pendingSamples.push((await workflow.describe()).raw.pendingActivities?.length ?? 0);
      await sample();
      // A worker restart in the middle of the wait: the timer is durable, in Temporal, not in the worker.
      await h.until('a third of the hold passed', async () => Date.now() > holdEnds - (2 * HOLD_MS) / 3, HOLD_MS);
      await sample();
      await h.operator.kill('worker');
      await h.operator.start(['worker']);
      for (const share of [0.5, 0.7, 0.9]) {
        await h.until(`${share} of the hold passed`, async () => Date.now() > holdEnds - HOLD_MS * (1 - share), HOLD_MS);
        await sample();
        const object = await h.get('rdsinstances', 'slow-db');
        assert.equal(object?.status?.dbInstanceStatus, 'creating', 'still creating while held');
      }
      await h.until('the hold ended', async () => Date.now() >= holdEnds, HOLD_MS);
      const holdStarts = holdEnds - HOLD_MS;
      const during = looks.filter((at) => at >= holdStarts && at < holdEnds);
      const describesDuringHold = during.length;
      const readyAt = performance.now();
      await ready('rdsinstances', 'slow-db');
      console.log(
        `RDSInstance held creating ${HOLD_MS} ms: ${describesDuringHold} DescribeDBInstances calls during the hold, ` +
          `at +${during.map((at) => ((at - holdStarts) / 1000).toFixed(1)).join(', ')} s; ` +
          `activity slots in use at ${pendingSamples.length} samples: ${pendingSamples.join(',')}; Ready ${(performance.now() - readyAt).toFixed(0)} ms after the hold`,
      );
      // A sample may land on one of the few observes (milliseconds each, a slow machine's hundreds); a slot held through the wait would show in every one.
      assert.ok(pendingSamples.filter((pending) => pending > 0).length <= 1, 'no activity is held while AWS creates');
      // Exponential backoff from 1 s to the 15 s cap: 1, 2, 4, 8, then every 15 s.
      assert.ok(describesDuringHold >= 3, 'it kept looking');
      // The workflow's backoff starts at 1 s and doubles to its 15 s cap: 0, 1, 3, 7, 15, 30, 45 s.
      assert.ok(describesDuringHold <= 8, `${describesDuringHold} describes in 60 s: about one per 15 s once backed off`);
      const lastHalf = during.filter((at) => at >= holdStarts + HOLD_MS / 2).length;
      assert.ok(lastHalf <= 3, `${lastHalf} describes in the last 30 s: at most one per 15 s (and the wake of the restart)`);
    } finally {
      stopRecording();
      slow.stop();
    }
  });

  test('a database tier in one apply, in reverse order, references only', async () => {
    const tier = await exampleResources('database-tier.yaml');
    assert.deepEqual(tier.map((d) => d.kind), ['VPC', 'Subnet', 'Subnet', 'SecurityGroup', 'DBSubnetGroup', 'RDSInstance']);
    const callsBefore = h.proxy.calls.length;
    const started = performance.now();
    await h.apply([secretYaml('orders-db-password', password('orders')), ...tier.map((d) => d.text).reverse()].join('\n---\n'));
    const plural: Record<string, string> = { VPC: 'vpcs', Subnet: 'subnets', SecurityGroup: 'securitygroups', DBSubnetGroup: 'dbsubnetgroups', RDSInstance: 'rdsinstances' };
    for (const { kind, name } of tier) await ready(plural[kind] ?? kind, name);
    const elapsed = performance.now() - started;
    const calls = h.proxy.calls.slice(callsBefore);
    console.log(
      `database tier (6 resources) apply -> all Ready: ${elapsed.toFixed(0)} ms, ${calls.filter((c) => c.service === 'rds').length} RDS + ${calls.filter((c) => c.service === 'ec2').length} EC2 calls`,
    );
    const group = await h.get('dbsubnetgroups', 'orders-db');
    const securityGroup = await h.get('securitygroups', 'orders-db');
    const subnetA = await h.get('subnets', 'data-a');
    const subnetB = await h.get('subnets', 'data-b');
    assert.deepEqual(group?.status?.subnetIDs, [subnetA?.status?.subnetID, subnetB?.status?.subnetID].sort());
    const orders = await instance('orders-db');
    assert.equal(orders?.DBSubnetGroup?.DBSubnetGroupName, 'orders-db');
    assert.equal(orders?.DBSubnetGroup?.VpcId, (await h.get('vpcs', 'data-vpc'))?.status?.vpcID);
    assert.deepEqual(orders?.VpcSecurityGroups?.map((g) => g.VpcSecurityGroupId), [securityGroup?.status?.groupID]);
    await captureStatuses();
  });

  test('deletion: final snapshot, skipFinalSnapshot, Retain, and deletion protection waiting for the spec', async () => {
    const mysql = await h.get('rdsinstances', 'app-mysql');
    const snapshot = finalSnapshotIdentifier('app-mysql-01', mysql?.metadata.uid ?? '');
    await h.kubectl(['delete', 'rdsinstance', 'app-mysql', '--wait=false']);
    await gone('rdsinstances', 'app-mysql');
    assert.equal(await instance('app-mysql-01'), undefined, 'Delete removed the instance');
    assert.ok(await snapshotExists(snapshot), `the final snapshot ${snapshot} exists`);
    const events = JSON.parse(await h.kubectl(['get', 'events', '-n', 'default', '-o', 'json'])) as {
      items: Array<{ reason: string; involvedObject: { name?: string } }>;
    };
    assert.ok(events.items.some((event) => event.reason === 'Deleted' && event.involvedObject.name === 'app-mysql'));

    await h.kubectl(['delete', 'rdsinstance', 'slow-db', '--wait=false']);
    await gone('rdsinstances', 'slow-db');
    assert.equal(await instance('slow-db'), undefined);
    const snapshots = await rds.send(new DescribeDBSnapshotsCommand({ DBInstanceIdentifier: 'slow-db' }));
    assert.equal(snapshots.DBSnapshots?.length ?? 0, 0, 'skipFinalSnapshot takes none');

    await h.kubectl(['delete', 'rdsinstance', 'production-postgres', '--wait=false']);
    await gone('rdsinstances', 'production-postgres');
    assert.ok(await instance('production-postgres-01'), 'Retain keeps the instance');

    // Deletion protection on, deletionPolicy Delete: deletion waits, saying why, and nothing is deleted.
    await h.kubectl(['delete', 'rdsinstance', 'legacy-db', '--wait=false']);
    const held = await h.until(
      'legacy-db deletion held by deletion protection',
      async () => {
        const object = await h.get('rdsinstances', 'legacy-db');
        return readyCondition(object)?.reason === 'DeletionProtected' ? object : null;
      },
      WAIT_MS,
    );
    assert.match(readyCondition(held)?.message ?? '', /deletion protection on in AWS.*spec\.deletionProtection: false/);
    assert.ok(await instance('legacy-db'), 'still there');
    const legacySnapshot = finalSnapshotIdentifier('legacy-db', held.metadata.uid);
    await h.kubectl(['patch', 'rdsinstance', 'legacy-db', '--type=merge', '-p', '{"spec":{"deletionProtection":false}}']);
    await gone('rdsinstances', 'legacy-db');
    assert.equal(await instance('legacy-db'), undefined, 'deleted once the spec allowed it');
    assert.ok(await snapshotExists(legacySnapshot), 'with its final snapshot');
    const connection = await h.kubectl(['get', 'secret', '-l', 'aws-infra-operator.runner.codes/connection-secret-of', '-o', 'name']);
    assert.doesNotMatch(connection, /legacy-db-connection/, 'the connection Secret went with it');

    // The tier, all at once: the subnet group waits for the instance to go.
    await h.kubectl(['delete', '-f', 'examples/database-tier.yaml', '--wait=false']);
    for (const [resource, name] of [['rdsinstances', 'orders-db'], ['dbsubnetgroups', 'orders-db'], ['vpcs', 'data-vpc']] as const) {
      await gone(resource, name);
    }
    assert.equal(await instance('orders-db'), undefined);
  });

  test('no password appears in any workflow history, the operator output, an Event or a status', async () => {
    assert.ok(passwords.length >= 6);
    const texts: Array<[string, string]> = [['operator output', h.operator.output.join('')]];
    for (const [index, status] of statuses.entries()) texts.push([`statuses #${index}`, status]);
    texts.push(['Events', await h.kubectl(['get', 'events', '-A', '-o', 'json'])]);
    let histories = 0;
    let mysqlHistory = '';
    for await (const execution of h.temporal.workflow.list()) {
      const history = await h.temporal.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
      const text = historyText(history);
      texts.push([`history of ${execution.workflowId} (${execution.runId})`, text]);
      if (execution.workflowId === 'RDSInstance/default/app-mysql') mysqlHistory += text;
      histories += 1;
    }
    assert.ok(histories >= 10, `read ${histories} histories`);
    // The scan reads payloads as the workflow saw them: the spec it was given is there, in plain text.
    assert.match(mysqlHistory, /"dbInstanceIdentifier":"app-mysql-01"/);
    for (const secret of passwords) {
      for (const [where, text] of texts) assert.ok(!text.includes(secret), `a password appears in ${where}`);
    }
  });
});
