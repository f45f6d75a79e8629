/**
 * DynamoDBTable on the real stack: the guide's tables (examples/), a spec
 * change, global indexes added and removed in the order AWS requires, drift
 * repair, the connection Secret, adoption, and deletion under each policy.
 *
 * moto makes every table and index ACTIVE at once and removes a deleted
 * index at once; AWS takes minutes and refuses the next index change until
 * the previous one is done. `slowIndexes` below holds each changed index in
 * CREATING / DELETING at the proxy for INDEX_HOLD_MS, so the waits are real.
 * moto also ignores UpdateTable's SSESpecification and TableClass, and
 * cannot turn a stream on again once it was on; those paths are covered by
 * the handler's unit tests only.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeContinuousBackupsCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  ListTagsOfResourceCommand,
  UpdateContinuousBackupsCommand,
  type GlobalSecondaryIndexDescription,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import { parseAllDocuments, stringify } from 'yaml';
import { Annotations, CLUSTER_TAG, OWNER_TAG } from '../../contract/identity.js';
import type { AwsProxy } from '../support/aws-proxy.js';
import { awsCredentials, readyCondition, startHarness, type Harness } from '../support/harness.js';

const INDEX_HOLD_MS = 3000;
const suffix = Date.now().toString(36);
let h: Harness;
let dynamodb: DynamoDBClient;
let indexLog: IndexChange[];

before(async () => {
  h = await startHarness();
  indexLog = slowIndexes(h.proxy, INDEX_HOLD_MS);
  dynamodb = new DynamoDBClient({
    region: awsCredentials.region,
    endpoint: h.stack.awsEndpoint,
    credentials: { accessKeyId: 'verifier', secretAccessKey: 'verifier' },
  });
});

after(async () => {
  await h?.teardown();
});

/** One UpdateTable that changed a global index, as the proxy saw it. */
interface IndexChange {
  table: string;
  at: number;
  creates: string[];
  deletes: string[];
  /** Whether every index was ACTIVE in the last DescribeTable answer the operator got before this call. */
  allActiveBefore: boolean;
}

/**
 * Holds an index created by UpdateTable in CREATING, and one deleted in
 * DELETING (put back into the answer as last seen), for `holdMs`, in every
 * DescribeTable and UpdateTable answer. Returns the log of index changes.
 */
function slowIndexes(proxy: AwsProxy, holdMs: number): IndexChange[] {
  const log: IndexChange[] = [];
  const creating = new Map<string, number>();
  const deleting = new Map<string, { at: number; index: GlobalSecondaryIndexDescription }>();
  const lastSeen = new Map<string, GlobalSecondaryIndexDescription>();
  const lastAllActive = new Map<string, boolean>();
  const hold = (table: TableDescription) => {
    const now = Date.now();
    const name = table.TableName ?? '';
    const indexes = (table.GlobalSecondaryIndexes ?? []).map((index) => {
      const at = creating.get(`${name}/${index.IndexName}`);
      return at !== undefined && now - at < holdMs ? { ...index, IndexStatus: 'CREATING' as const } : index;
    });
    for (const [key, { at, index }] of deleting) {
      if (key.startsWith(`${name}/`) && now - at < holdMs) indexes.push({ ...index, IndexStatus: 'DELETING' });
    }
    for (const index of indexes) if (index.IndexStatus === 'ACTIVE') lastSeen.set(`${name}/${index.IndexName}`, index);
    return { ...table, GlobalSecondaryIndexes: indexes };
  };
  proxy.intercept((call) => {
    if (call.service !== 'dynamodb' || (call.operation !== 'DescribeTable' && call.operation !== 'UpdateTable')) return undefined;
    const request = JSON.parse(call.body.toString('utf8')) as {
      TableName: string;
      GlobalSecondaryIndexUpdates?: Array<{ Create?: { IndexName: string }; Delete?: { IndexName: string } }>;
    };
    const updates = request.GlobalSecondaryIndexUpdates ?? [];
    const creates = updates.flatMap((update) => (update.Create ? [update.Create.IndexName] : []));
    const deletes = updates.flatMap((update) => (update.Delete ? [update.Delete.IndexName] : []));
    if (creates.length || deletes.length) {
      const at = Date.now();
      log.push({ table: request.TableName, at, creates, deletes, allActiveBefore: lastAllActive.get(request.TableName) ?? true });
      for (const name of creates) creating.set(`${request.TableName}/${name}`, at);
      for (const name of deletes) {
        const index = lastSeen.get(`${request.TableName}/${name}`);
        if (index) deleting.set(`${request.TableName}/${name}`, { at, index });
      }
    }
    return {
      rewrite: (_call, status, body) => {
        if (status !== 200) return body;
        const answer = JSON.parse(body) as { Table?: TableDescription; TableDescription?: TableDescription };
        const key = answer.Table ? 'Table' : 'TableDescription';
        const table = answer[key];
        if (!table) return body;
        const held = hold(table);
        if (call.operation === 'DescribeTable') {
          lastAllActive.set(request.TableName, (held.GlobalSecondaryIndexes ?? []).every((index) => index.IndexStatus === 'ACTIVE'));
        }
        return JSON.stringify({ ...answer, [key]: held });
      },
    };
  });
  return log;
}

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
  spec: Record<string, unknown>;
}

/** The example manifests, names made unique so reruns on one moto never meet. */
async function examples(): Promise<Manifest[]> {
  const text = await readFile('examples/dynamodb-table.yaml', 'utf8');
  return parseAllDocuments(text).map((document) => {
    const manifest = document.toJSON() as Manifest;
    manifest.metadata.name = `${manifest.metadata.name}-${suffix}`;
    manifest.spec.tableName = `${String(manifest.spec.tableName)}-${suffix}`;
    return manifest;
  });
}

const yamlOf = (manifests: Manifest[]) => manifests.map((manifest) => stringify(manifest)).join('---\n');

async function awsTable(TableName: string): Promise<TableDescription | undefined> {
  try {
    return (await dynamodb.send(new DescribeTableCommand({ TableName }))).Table;
  } catch (error) {
    if ((error as Error).name === 'ResourceNotFoundException') return undefined;
    throw error;
  }
}

async function tagsOf(arn: string): Promise<Record<string, string>> {
  const tags: Record<string, string> = {};
  let NextToken: string | undefined;
  do {
    const page = await dynamodb.send(new ListTagsOfResourceCommand({ ResourceArn: arn, ...(NextToken ? { NextToken } : {}) }));
    for (const tag of page.Tags ?? []) tags[tag.Key ?? ''] = tag.Value ?? '';
    NextToken = page.NextToken;
  } while (NextToken);
  return tags;
}

async function pointInTimeRecovery(TableName: string): Promise<string | undefined> {
  const answer = await dynamodb.send(new DescribeContinuousBackupsCommand({ TableName }));
  return answer.ContinuousBackupsDescription?.PointInTimeRecoveryDescription?.PointInTimeRecoveryStatus;
}

const readyAt = async (name: string, generation?: number, timeoutMs = 60_000) =>
  h.until(
    `DynamoDBTable ${name} Ready${generation ? ` at generation ${generation}` : ''}`,
    async () => {
      const object = await h.get('dynamodbtable', name);
      if (!object?.status?.ready || readyCondition(object)?.status !== 'True') return undefined;
      if (generation !== undefined && object.status.observedGeneration !== generation) return undefined;
      return object;
    },
    timeoutMs,
  );

const indexNames = (table: TableDescription | undefined) => (table?.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName).sort();

describe('DynamoDBTable', () => {
  let users: Manifest;
  let products: Manifest;
  let orders: Manifest;

  test('the guide’s tables apply unchanged and become Ready with AWS as written', async () => {
    [users, products, orders] = (await examples()) as [Manifest, Manifest, Manifest];
    const callsBefore = h.proxy.calls.length;
    const started = performance.now();
    await h.apply(yamlOf([users, products]));
    const [usersObject, productsObject] = await Promise.all([readyAt(users.metadata.name), readyAt(products.metadata.name)]);
    const elapsed = performance.now() - started;
    const calls = h.proxy.calls.slice(callsBefore).filter((call) => call.service === 'dynamodb');
    const counts: Record<string, number> = {};
    for (const call of calls) counts[call.operation] = (counts[call.operation] ?? 0) + 1;
    process.stdout.write(`# guide tables apply -> Ready: ${Math.round(elapsed)} ms, ${calls.length} DynamoDB calls for 2 tables ${JSON.stringify(counts)}\n`);
    assert.equal(counts.CreateTable, 2, 'one CreateTable per table, tags included');
    assert.equal(counts.TagResource ?? 0, 0, 'no separate tagging call');

    const usersTable = await awsTable(String(users.spec.tableName));
    assert.deepEqual(usersTable?.KeySchema, [
      { AttributeName: 'userID', KeyType: 'HASH' },
      { AttributeName: 'timestamp', KeyType: 'RANGE' },
    ]);
    assert.deepEqual(usersTable?.AttributeDefinitions, [
      { AttributeName: 'userID', AttributeType: 'S' },
      { AttributeName: 'timestamp', AttributeType: 'N' },
    ]);
    assert.equal(usersTable?.BillingModeSummary?.BillingMode, 'PAY_PER_REQUEST');
    const usersTags = await tagsOf(usersTable?.TableArn ?? '');
    assert.equal(usersTags.Application, 'user-service');
    assert.equal(usersTags.environment, 'testing', "the provider's defaultTags");
    assert.equal(usersTags[OWNER_TAG], `DynamoDBTable/default/${users.metadata.name}`);
    assert.ok(usersTags[CLUSTER_TAG]);
    assert.equal(usersObject.status?.tableARN, usersTable?.TableArn);
    assert.equal(usersObject.status?.tableStatus, 'ACTIVE');
    assert.equal(usersObject.status?.externalID, users.spec.tableName);

    const productsTable = await awsTable(String(products.spec.tableName));
    assert.equal(productsTable?.BillingModeSummary?.BillingMode, 'PROVISIONED');
    assert.equal(productsTable?.ProvisionedThroughput?.ReadCapacityUnits, 5);
    assert.equal(productsTable?.ProvisionedThroughput?.WriteCapacityUnits, 5);
    const category = productsTable?.GlobalSecondaryIndexes?.[0];
    assert.equal(category?.IndexName, 'CategoryIndex');
    assert.deepEqual(category?.KeySchema, [
      { AttributeName: 'category', KeyType: 'HASH' },
      { AttributeName: 'price', KeyType: 'RANGE' },
    ]);
    assert.equal(category?.Projection?.ProjectionType, 'ALL');
    assert.equal(category?.ProvisionedThroughput?.ReadCapacityUnits, 5);
    assert.equal(productsObject.status?.itemCount, 0);
  });

  test('a spec change is applied: point-in-time recovery on, TTL on, a tag changed', async () => {
    const changed: Manifest = {
      ...users,
      spec: {
        ...users.spec,
        pointInTimeRecovery: { enabled: true },
        timeToLive: { enabled: true, attributeName: 'expiresAt' },
        tags: { Application: 'user-service', Environment: 'staging' },
      },
    };
    await h.apply(yamlOf([changed]));
    await readyAt(users.metadata.name, 2);
    const TableName = String(users.spec.tableName);
    assert.equal(await pointInTimeRecovery(TableName), 'ENABLED');
    const ttl = await dynamodb.send(new DescribeTimeToLiveCommand({ TableName }));
    assert.equal(ttl.TimeToLiveDescription?.TimeToLiveStatus, 'ENABLED');
    assert.equal(ttl.TimeToLiveDescription?.AttributeName, 'expiresAt');
    const table = await awsTable(TableName);
    assert.equal((await tagsOf(table?.TableArn ?? '')).Environment, 'staging');
    users = changed;
  });

  test('point-in-time recovery turned off behind its back is turned on again', async () => {
    const TableName = String(users.spec.tableName);
    await dynamodb.send(new UpdateContinuousBackupsCommand({ TableName, PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: false } }));
    assert.equal(await pointInTimeRecovery(TableName), 'DISABLED');
    await h.until('PITR enabled again', async () => (await pointInTimeRecovery(TableName)) === 'ENABLED', 60_000);
    const events = await h.until('a DriftRepaired Event', async () => {
      const list = JSON.parse(
        await h.kubectl(['get', 'events', '--field-selector', `involvedObject.name=${users.metadata.name},reason=DriftRepaired`, '-o', 'json']),
      ) as { items: Array<{ message: string }> };
      return list.items.length ? list.items : undefined;
    }, 60_000);
    assert.match(events[0]?.message ?? '', /pointInTimeRecovery: disabled -> enabled/);
  });

  test('global indexes removed and added in one spec change: one index per UpdateTable, each after the previous is done', async () => {
    const TableName = String(products.spec.tableName);
    const index = (indexName: string, key: string) => ({
      indexName,
      hashKey: { name: key, type: 'S' },
      projection: { type: 'KEYS_ONLY' },
      readCapacityUnits: 2,
      writeCapacityUnits: 2,
    });
    const changed: Manifest = { ...products, spec: { ...products.spec, globalSecondaryIndexes: [index('NameIndex', 'name'), index('BrandIndex', 'brand')] } };
    const logFrom = indexLog.length;
    await h.apply(yamlOf([changed]));
    const provisioning = await h.until('Provisioning while an index is changed', async () => {
      const object = await h.get('dynamodbtable', products.metadata.name);
      return object?.status?.phase === 'Provisioning' ? object : undefined;
    }, 60_000);
    assert.match(readyCondition(provisioning)?.message ?? '', /index \w+ (CREATING|DELETING)/);
    await readyAt(products.metadata.name, 2, 90_000);
    const changes = indexLog.slice(logFrom).filter((change) => change.table === TableName);
    assert.deepEqual(
      changes.map((change) => [...change.deletes.map((name) => `-${name}`), ...change.creates.map((name) => `+${name}`)]),
      [['-CategoryIndex'], ['+NameIndex'], ['+BrandIndex']],
      'the removal first, then one addition per call, in spec order',
    );
    for (let i = 1; i < changes.length; i++) {
      const previous = changes[i - 1];
      const current = changes[i];
      assert.ok(current.at - previous.at >= INDEX_HOLD_MS, `change ${i} came ${current.at - previous.at} ms after the previous one, before AWS had finished it`);
      assert.ok(current.allActiveBefore, `change ${i} was sent after a DescribeTable that showed every index ACTIVE`);
    }
    const table = await awsTable(TableName);
    assert.deepEqual(indexNames(table), ['BrandIndex', 'NameIndex']);
    assert.deepEqual(
      [...(table?.AttributeDefinitions ?? [])].map((definition) => definition.AttributeName).sort(),
      ['brand', 'name', 'productID'],
    );
    products = changed;
  });

  test('every feature: Ready, the connection Secret written; deletion waits for deletion protection, then the Secret goes with it', async () => {
    const callsBefore = h.proxy.calls.length;
    const started = performance.now();
    await h.apply(yamlOf([orders]));
    const object = await readyAt(orders.metadata.name);
    const calls = h.proxy.calls.slice(callsBefore).filter((call) => call.service === 'dynamodb').map((call) => call.operation);
    process.stdout.write(`# every-feature table apply -> Ready: ${Math.round(performance.now() - started)} ms, ${calls.length} DynamoDB calls: ${calls.join(', ')}\n`);
    const TableName = String(orders.spec.tableName);
    const table = await awsTable(TableName);
    assert.equal(table?.LocalSecondaryIndexes?.[0]?.IndexName, 'ByDate');
    assert.equal(table?.StreamSpecification?.StreamViewType, 'NEW_AND_OLD_IMAGES');
    assert.equal(table?.SSEDescription?.SSEType, 'KMS');
    assert.equal(table?.DeletionProtectionEnabled, true);
    assert.equal(await pointInTimeRecovery(TableName), 'ENABLED');
    assert.equal(object.status?.streamARN, table?.LatestStreamArn);

    const secretName = 'orders-table-connection';
    const secret = await h.until('the connection Secret', async () => {
      const found = await h.get<{ data: Record<string, string>; metadata: { ownerReferences?: Array<{ uid: string }> } }>('secret', secretName);
      return found?.data ? found : undefined;
    }, 60_000);
    const decoded = Object.fromEntries(Object.entries(secret.data).map(([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')]));
    assert.deepEqual(decoded, { tableName: TableName, tableARN: table?.TableArn, streamARN: table?.LatestStreamArn, region: awsCredentials.region });
    assert.equal(secret.metadata.ownerReferences?.[0]?.uid, object.metadata.uid);

    await h.kubectl(['delete', 'dynamodbtable', orders.metadata.name, '--wait=false']);
    const blocked = await h.until('deletion blocked by deletion protection', async () => {
      const current = await h.get('dynamodbtable', orders.metadata.name);
      return readyCondition(current)?.reason === 'DeletionProtected' ? current : undefined;
    }, 60_000);
    assert.match(readyCondition(blocked)?.message ?? '', /deletionProtectionEnabled to false/);
    assert.ok(await awsTable(TableName), 'the protected table is still there');

    await h.kubectl(['patch', 'dynamodbtable', orders.metadata.name, '--type=merge', '-p', JSON.stringify({ spec: { deletionProtectionEnabled: false } })]);
    await h.until('the orders table gone from AWS and the resource gone', async () =>
      !(await awsTable(TableName)) && !(await h.get('dynamodbtable', orders.metadata.name)), 60_000);
    await h.until('the connection Secret removed', async () => !(await h.get('secret', secretName)), 60_000);
  });

  test('a table made outside the operator is AlreadyExists until adopted', async () => {
    const TableName = `handmade-${suffix}`;
    await dynamodb.send(
      new CreateTableCommand({
        TableName,
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
        Tags: [{ Key: 'MadeBy', Value: 'hand' }],
      }),
    );
    const manifest: Manifest = {
      apiVersion: 'aws-infra-operator.runner.codes/v1alpha1',
      kind: 'DynamoDBTable',
      metadata: { name: `handmade-${suffix}` },
      spec: { providerRef: { name: 'production-aws' }, tableName: TableName, hashKey: { name: 'id', type: 'S' }, deletionPolicy: 'Orphan' },
    };
    const yaml = (annotations?: Record<string, string>) =>
      yamlOf([{ ...manifest, metadata: { ...manifest.metadata, ...(annotations ? { annotations } : {}) } }]);
    await h.apply(yaml());
    const refused = await h.until('AlreadyExists', async () => {
      const object = await h.get('dynamodbtable', manifest.metadata.name);
      return readyCondition(object)?.reason === 'AlreadyExists' ? object : undefined;
    }, 60_000);
    assert.match(readyCondition(refused)?.message ?? '', /adoption-policy=adopt/);
    const arn = (await awsTable(TableName))?.TableArn ?? '';
    assert.equal((await tagsOf(arn))[OWNER_TAG], undefined, 'nothing was written to it');

    await h.apply(yaml({ [Annotations.adoptionPolicy]: 'adopt' }));
    await readyAt(manifest.metadata.name);
    const tags = await tagsOf(arn);
    assert.equal(tags[OWNER_TAG], `DynamoDBTable/default/${manifest.metadata.name}`);
    assert.equal(tags.MadeBy, undefined, 'the operator owns the full tag set once adopted');

    // Orphan: the resource goes, the table stays.
    await h.kubectl(['delete', 'dynamodbtable', manifest.metadata.name, '--timeout=60s']);
    assert.ok(await awsTable(TableName), 'deletionPolicy Orphan keeps the table');
    await dynamodb.send(new DeleteTableCommand({ TableName }));
  });

  test('deletion: Retain keeps the table, Delete removes it', async () => {
    const usersTable = String(users.spec.tableName);
    const productsTable = String(products.spec.tableName);
    await h.kubectl(['delete', 'dynamodbtable', users.metadata.name, products.metadata.name, '--timeout=90s']);
    assert.ok(await awsTable(usersTable), 'deletionPolicy Retain keeps the table');
    assert.equal(await awsTable(productsTable), undefined, 'deletionPolicy Delete removes it');
    await dynamodb.send(new DeleteTableCommand({ TableName: usersTable }));
  });
});
