import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { TableDescription } from '@aws-sdk/client-dynamodb';
import type { TableSpec } from '../../../crds/kinds/dynamodb-table.js';
import { CLUSTER_TAG, OWNER_TAG } from '../../../contract/identity.js';
import { ErrorClass, INVALID_SPEC, classifyAwsError } from '../errors.js';
import { IMMUTABLE_FIELD_CHANGED } from '../difference.js';
import { TEST_CLUSTER_ID, awsError, sequence, stubContext, type CommandInput, type StubResponse } from '../testing.js';
import {
  DELETION_PROTECTED,
  attributeDefinitions,
  compareEncryption,
  compareTable,
  createTableInput,
  nextTableStep,
  sameKmsKey,
  tableHandler,
  transitions,
  type ObservedTable,
} from './table.js';

const OWNER = 'DynamoDBTable/default/products';
const TAGS = { Team: 'shop', [OWNER_TAG]: OWNER, [CLUSTER_TAG]: TEST_CLUSTER_ID };
const resource = { kind: 'DynamoDBTable', namespace: 'default', name: 'products', uid: 'uid-1' };
const ARN = 'arn:aws:dynamodb:us-east-1:123456789012:table/production-products';
const KEY_ARN = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';

/** The guide's provisioned table with its CategoryIndex. */
const spec: TableSpec = {
  providerRef: { name: 'aws' },
  tableName: 'production-products',
  hashKey: { name: 'productID', type: 'S' },
  billingMode: 'PROVISIONED',
  readCapacityUnits: 5,
  writeCapacityUnits: 5,
  globalSecondaryIndexes: [
    {
      indexName: 'CategoryIndex',
      hashKey: { name: 'category', type: 'S' },
      rangeKey: { name: 'price', type: 'N' },
      projection: { type: 'ALL' },
      readCapacityUnits: 5,
      writeCapacityUnits: 5,
    },
  ],
};

const categoryIndex = {
  IndexName: 'CategoryIndex',
  KeySchema: [
    { AttributeName: 'category', KeyType: 'HASH' as const },
    { AttributeName: 'price', KeyType: 'RANGE' as const },
  ],
  Projection: { ProjectionType: 'ALL' as const },
  IndexStatus: 'ACTIVE' as const,
  ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 5 },
};

/** DynamoDB's description of a table that matches `spec`. */
function describedTable(overrides: Partial<TableDescription> = {}): TableDescription {
  return {
    TableName: 'production-products',
    TableArn: ARN,
    TableStatus: 'ACTIVE',
    ItemCount: 3,
    AttributeDefinitions: [
      { AttributeName: 'productID', AttributeType: 'S' },
      { AttributeName: 'category', AttributeType: 'S' },
      { AttributeName: 'price', AttributeType: 'N' },
    ],
    KeySchema: [{ AttributeName: 'productID', KeyType: 'HASH' }],
    BillingModeSummary: { BillingMode: 'PROVISIONED' },
    ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 5 },
    GlobalSecondaryIndexes: [categoryIndex],
    DeletionProtectionEnabled: false,
    ...overrides,
  };
}

const observedTable = (table: TableDescription, extra: Partial<ObservedTable> = {}): ObservedTable => ({ table, tags: TAGS, ...extra });

function existingTable(table: TableDescription = describedTable(), tags: Record<string, string> = TAGS): Record<string, StubResponse> {
  return {
    DescribeTableCommand: { Table: table },
    ListTagsOfResourceCommand: { Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) },
    TagResourceCommand: {},
    UntagResourceCommand: {},
  };
}

describe('create', () => {
  test('derives attribute definitions from the keys and indexes and sends the tags with CreateTable', () => {
    const input = createTableInput(spec, TAGS);
    assert.deepEqual(input.AttributeDefinitions, [
      { AttributeName: 'productID', AttributeType: 'S' },
      { AttributeName: 'category', AttributeType: 'S' },
      { AttributeName: 'price', AttributeType: 'N' },
    ]);
    assert.deepEqual(input.ProvisionedThroughput, { ReadCapacityUnits: 5, WriteCapacityUnits: 5 });
    assert.equal(input.GlobalSecondaryIndexes?.[0]?.ProvisionedThroughput?.ReadCapacityUnits, 5);
    assert.deepEqual(input.Tags, Object.entries(TAGS).map(([Key, Value]) => ({ Key, Value })));
    assert.equal(input.SSESpecification, undefined, 'AWS-owned keys are the default and need no SSESpecification');
  });

  test('an unquoted N, which kubectl delivers as false, is N', () => {
    assert.deepEqual(attributeDefinitions([{ where: 'rangeKey', key: { name: 'price', type: false } }]), [{ AttributeName: 'price', AttributeType: 'N' }]);
  });

  test('one attribute with two types is an InvalidSpec naming both places', () => {
    assert.throws(
      () => attributeDefinitions([{ where: 'hashKey', key: { name: 'id', type: 'S' } }, { where: 'globalSecondaryIndexes[ByID].hashKey', key: { name: 'id', type: 'N' } }]),
      (error: Error) => error.name === INVALID_SPEC && /id is S in hashKey and N in globalSecondaryIndexes\[ByID\]/.test(error.message),
    );
  });

  test('an answer of CREATING leaves backups and TTL to update; one of ACTIVE applies them at once', async () => {
    const withSettings: TableSpec = { ...spec, pointInTimeRecovery: { enabled: true }, timeToLive: { enabled: true, attributeName: 'expiresAt' } };
    const creating = stubContext({ CreateTableCommand: { TableDescription: describedTable({ TableStatus: 'CREATING' }) } }, { resource, tags: TAGS });
    await tableHandler.create(creating, withSettings);
    assert.deepEqual(creating.commandNames(), ['CreateTableCommand']);

    const active = stubContext(
      { CreateTableCommand: { TableDescription: describedTable() }, UpdateContinuousBackupsCommand: {}, UpdateTimeToLiveCommand: {} },
      { resource, tags: TAGS },
    );
    await tableHandler.create(active, withSettings);
    assert.deepEqual(active.commandNames(), ['CreateTableCommand', 'UpdateContinuousBackupsCommand', 'UpdateTimeToLiveCommand']);
    assert.deepEqual(active.callsTo('UpdateTimeToLiveCommand')[0]?.TimeToLiveSpecification, { Enabled: true, AttributeName: 'expiresAt' });
  });

  test('ResourceInUse on an untagged table is AlreadyExists; on another resource’s table, OwnedByAnotherResource; on ours, a fix-up', async () => {
    const inUse = awsError('ResourceInUseException');
    const untagged = stubContext({ CreateTableCommand: inUse, ...existingTable(describedTable(), { Team: 'shop' }) }, { resource, tags: TAGS });
    await assert.rejects(tableHandler.create(untagged, spec), (error: Error) => error.name === 'AlreadyExists');
    assert.ok(!untagged.commandNames().includes('TagResourceCommand'), 'nothing is written to a table made outside the operator');

    const another = stubContext(
      { CreateTableCommand: inUse, ...existingTable(describedTable(), { [OWNER_TAG]: 'DynamoDBTable/other/products', [CLUSTER_TAG]: TEST_CLUSTER_ID }) },
      { resource, tags: TAGS },
    );
    await assert.rejects(tableHandler.create(another, spec), (error: Error) => error.name === 'OwnedByAnotherResource');

    const ours = stubContext(
      { CreateTableCommand: inUse, ...existingTable(describedTable({ ProvisionedThroughput: { ReadCapacityUnits: 1, WriteCapacityUnits: 1 } })), UpdateTableCommand: { TableDescription: describedTable() } },
      { resource, tags: TAGS },
    );
    await tableHandler.create(ours, spec);
    assert.deepEqual(ours.callsTo('UpdateTableCommand')[0]?.ProvisionedThroughput, { ReadCapacityUnits: 5, WriteCapacityUnits: 5 });
  });
});

describe('observe', () => {
  test('a missing table is exists:false after one call', async () => {
    const context = stubContext({ DescribeTableCommand: awsError('ResourceNotFoundException') }, { resource, tags: TAGS });
    assert.equal((await tableHandler.observe(context, spec)).exists, false);
    assert.deepEqual(context.commandNames(), ['DescribeTableCommand']);
  });

  test('a matching table is ready and in sync; backups and TTL are read only when the spec sets them', async () => {
    const context = stubContext(existingTable(), { resource, tags: TAGS });
    const observed = await tableHandler.observe(context, spec);
    assert.deepEqual(observed.differences, []);
    assert.equal(observed.ready, true);
    assert.equal(observed.id, 'production-products');
    assert.deepEqual(observed.status, { tableName: 'production-products', tableStatus: 'ACTIVE', tableARN: ARN, streamARN: '', itemCount: 3 });
    assert.deepEqual(context.commandNames(), ['DescribeTableCommand', 'ListTagsOfResourceCommand']);
  });

  test('while AWS is busy nothing is reported to change and the work left is named in the state', async () => {
    const busy = describedTable({ TableStatus: 'UPDATING', GlobalSecondaryIndexes: [{ ...categoryIndex, IndexStatus: 'CREATING' }] });
    const context = stubContext(existingTable(busy, { Team: 'other', [OWNER_TAG]: OWNER, [CLUSTER_TAG]: TEST_CLUSTER_ID }), { resource, tags: TAGS });
    const observed = await tableHandler.observe(context, spec);
    assert.equal(observed.upToDate, true);
    assert.equal(observed.ready, false);
    assert.equal(observed.lifecycle, 'Pending');
    assert.equal(observed.state, 'table UPDATING, index CategoryIndex CREATING; then: tags: ~Team');
  });

  test('deleting: the table’s state and owner only, no comparison', async () => {
    const context = stubContext(existingTable(describedTable({ TableStatus: 'DELETING' })), { resource, tags: TAGS, deleting: true });
    const observed = await tableHandler.observe(context, { ...spec, pointInTimeRecovery: { enabled: true } });
    assert.equal(observed.lifecycle, 'Deleting');
    assert.deepEqual(context.commandNames(), ['DescribeTableCommand', 'ListTagsOfResourceCommand']);
  });

  test('a table without our tags is unmanaged; another cluster’s is owned by it', async () => {
    const untagged = await tableHandler.observe(stubContext(existingTable(describedTable(), {}), { resource, tags: TAGS }), spec);
    assert.equal(untagged.unmanaged, true);
    const elsewhere = await tableHandler.observe(
      stubContext(existingTable(describedTable(), { [OWNER_TAG]: OWNER, [CLUSTER_TAG]: 'other-cluster' }), { resource, tags: TAGS }),
      spec,
    );
    assert.match(elsewhere.ownedBy ?? '', /cluster other-cluster/);
  });
});

describe('comparison', () => {
  test('every managed field', () => {
    const table = describedTable({
      BillingModeSummary: { BillingMode: 'PAY_PER_REQUEST' },
      GlobalSecondaryIndexes: [{ ...categoryIndex, IndexName: 'OldIndex' }],
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'KEYS_ONLY' },
      DeletionProtectionEnabled: true,
    });
    const desired: TableSpec = {
      ...spec,
      streamSpecification: { streamEnabled: true, streamViewType: 'NEW_IMAGE' },
      pointInTimeRecovery: { enabled: true },
      timeToLive: { enabled: true, attributeName: 'expiresAt' },
      encryption: { type: 'AWS_MANAGED' },
      tableClass: 'STANDARD_INFREQUENT_ACCESS',
      deletionProtectionEnabled: false,
    };
    const differences = compareTable(desired, observedTable(table, { pointInTimeRecovery: false, timeToLive: { status: 'DISABLED' } }), TAGS);
    assert.deepEqual(
      differences.map((d) => `${d.field}: ${d.detail}`),
      [
        'billingMode: PAY_PER_REQUEST -> PROVISIONED',
        'globalSecondaryIndexes[OldIndex]: remove (not in the spec)',
        'globalSecondaryIndexes[CategoryIndex]: add',
        'streamSpecification: KEYS_ONLY -> NEW_IMAGE (turned off, then on: a new stream)',
        'pointInTimeRecovery: disabled -> enabled',
        'timeToLive: off -> on (expiresAt)',
        'encryption: AWS_OWNED -> AWS_MANAGED',
        'tableClass: STANDARD -> STANDARD_INFREQUENT_ACCESS',
        'deletionProtectionEnabled: true -> false',
      ],
    );
  });

  test('keys and local indexes that differ are immutable, and update refuses them terminally', async () => {
    const table = describedTable({ KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }], AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }, ...(describedTable().AttributeDefinitions ?? [])] });
    const differences = compareTable(spec, observedTable(table), TAGS);
    assert.deepEqual(differences.filter((d) => d.immutable).map((d) => d.field), ['hashKey/rangeKey']);
    const context = stubContext(existingTable(table), { resource, tags: TAGS });
    await assert.rejects(tableHandler.update(context, spec, { exists: true, upToDate: false, ready: true, differences: [], status: {} }), (error: Error) => error.name === IMMUTABLE_FIELD_CHANGED);
    assert.ok(!context.commandNames().includes('UpdateTableCommand'));
    assert.equal(classifyAwsError(Object.assign(new Error('x'), { name: IMMUTABLE_FIELD_CHANGED }), tableHandler.errorCodes), ErrorClass.Terminal);
  });

  test('an index with new keys is removed, then added again', () => {
    const moved = describedTable({
      GlobalSecondaryIndexes: [{ ...categoryIndex, KeySchema: [{ AttributeName: 'category', KeyType: 'HASH' }] }],
    });
    assert.deepEqual(nextTableStep(spec, moved)?.input.GlobalSecondaryIndexUpdates, [{ Delete: { IndexName: 'CategoryIndex' } }]);
    const removed = describedTable({ GlobalSecondaryIndexes: [] });
    const step = nextTableStep(spec, removed);
    assert.equal(step?.what, 'add global index CategoryIndex');
    assert.deepEqual(step?.input.AttributeDefinitions?.map((d) => d.AttributeName), ['productID', 'category', 'price']);
  });

  test('encryption: AWS-managed accepts any KMS key; a customer key is compared by ARN or key ID', () => {
    const kms = describedTable({ SSEDescription: { Status: 'ENABLED', SSEType: 'KMS', KMSMasterKeyArn: KEY_ARN } });
    assert.equal(compareEncryption({ type: 'AWS_MANAGED' }, kms), undefined);
    assert.equal(compareEncryption({ type: 'CUSTOMER_MANAGED', kmsKeyID: '1234abcd-12ab-34cd-56ef-1234567890ab' }, kms), undefined);
    assert.ok(compareEncryption({ type: 'CUSTOMER_MANAGED', kmsKeyID: 'other-key' }, kms));
    assert.ok(compareEncryption({ type: 'AWS_OWNED' }, kms));
    assert.equal(compareEncryption({ type: 'AWS_OWNED' }, describedTable()), undefined);
    assert.equal(sameKmsKey('alias/orders', KEY_ARN), true);
  });
});

describe('update', () => {
  test('UpdateTable steps follow one another while AWS answers ACTIVE, each with one index change, removals first', async () => {
    const desired: TableSpec = {
      ...spec,
      globalSecondaryIndexes: [
        ...(spec.globalSecondaryIndexes ?? []),
        { indexName: 'NameIndex', hashKey: { name: 'name', type: 'S' }, projection: { type: 'KEYS_ONLY' }, readCapacityUnits: 1, writeCapacityUnits: 1 },
      ],
    };
    const before = describedTable({ GlobalSecondaryIndexes: [categoryIndex, { ...categoryIndex, IndexName: 'OldIndex' }] });
    const withName = [...(before.AttributeDefinitions ?? []), { AttributeName: 'name', AttributeType: 'S' as const }];
    const nameIndex = {
      IndexName: 'NameIndex',
      KeySchema: [{ AttributeName: 'name', KeyType: 'HASH' as const }],
      Projection: { ProjectionType: 'KEYS_ONLY' as const },
      IndexStatus: 'ACTIVE' as const,
      ProvisionedThroughput: { ReadCapacityUnits: 1, WriteCapacityUnits: 1 },
    };
    const context = stubContext(
      {
        ...existingTable(before),
        UpdateTableCommand: sequence(
          { TableDescription: describedTable() },
          { TableDescription: describedTable({ AttributeDefinitions: withName, GlobalSecondaryIndexes: [categoryIndex, nameIndex] }) },
        ),
      },
      { resource, tags: TAGS },
    );
    await tableHandler.update(context, desired, { exists: true, upToDate: false, ready: true, differences: [], status: {} });
    const updates = context.callsTo('UpdateTableCommand').map((input: CommandInput) => input.GlobalSecondaryIndexUpdates);
    assert.deepEqual(updates[0], [{ Delete: { IndexName: 'OldIndex' } }]);
    assert.equal((updates[1] as Array<{ Create?: { IndexName: string } }>)[0]?.Create?.IndexName, 'NameIndex');
    assert.equal(updates.length, 2);
  });

  test('an answer showing AWS busy ends the activity: the next step waits for the workflow’s next pass', async () => {
    const desired: TableSpec = { ...spec, globalSecondaryIndexes: [] , deletionProtectionEnabled: true };
    const context = stubContext(
      { ...existingTable(), UpdateTableCommand: { TableDescription: describedTable({ GlobalSecondaryIndexes: [{ ...categoryIndex, IndexStatus: 'DELETING' }] }) } },
      { resource, tags: TAGS },
    );
    await tableHandler.update(context, desired, { exists: true, upToDate: false, ready: true, differences: [], status: {} });
    assert.equal(context.callsTo('UpdateTableCommand').length, 1);
    assert.deepEqual(transitions(describedTable({ TableStatus: 'UPDATING' })), ['table UPDATING']);
  });

  test('a step AWS does not reflect is not sent twice in one activity', async () => {
    const context = stubContext({ ...existingTable(), UpdateTableCommand: { TableDescription: describedTable() } }, { resource, tags: TAGS });
    await tableHandler.update(context, { ...spec, tableClass: 'STANDARD_INFREQUENT_ACCESS' }, { exists: true, upToDate: false, ready: true, differences: [], status: {} });
    assert.equal(context.callsTo('UpdateTableCommand').length, 1);
  });

  test('switching to PROVISIONED gives the table and every kept index their throughput in one call', () => {
    const onDemand = describedTable({ BillingModeSummary: { BillingMode: 'PAY_PER_REQUEST' }, ProvisionedThroughput: { ReadCapacityUnits: 0, WriteCapacityUnits: 0 } });
    const step = nextTableStep(spec, onDemand);
    assert.equal(step?.input.BillingMode, 'PROVISIONED');
    assert.deepEqual(step?.input.ProvisionedThroughput, { ReadCapacityUnits: 5, WriteCapacityUnits: 5 });
    assert.deepEqual(step?.input.GlobalSecondaryIndexUpdates, [{ Update: { IndexName: 'CategoryIndex', ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 5 } } }]);
  });

  test('tags, backups and TTL: a new TTL attribute turns TTL off first', async () => {
    const context = stubContext(
      {
        ...existingTable(describedTable(), { [OWNER_TAG]: OWNER, [CLUSTER_TAG]: TEST_CLUSTER_ID, Stale: 'x' }),
        DescribeContinuousBackupsCommand: { ContinuousBackupsDescription: { ContinuousBackupsStatus: 'ENABLED', PointInTimeRecoveryDescription: { PointInTimeRecoveryStatus: 'ENABLED' } } },
        DescribeTimeToLiveCommand: { TimeToLiveDescription: { TimeToLiveStatus: 'ENABLED', AttributeName: 'old' } },
        UpdateContinuousBackupsCommand: {},
        UpdateTimeToLiveCommand: {},
      },
      { resource, tags: TAGS },
    );
    const desired: TableSpec = { ...spec, pointInTimeRecovery: { enabled: false }, timeToLive: { enabled: true, attributeName: 'expiresAt' } };
    await tableHandler.update(context, desired, { exists: true, upToDate: false, ready: true, differences: [], status: {} });
    assert.deepEqual(context.callsTo('TagResourceCommand')[0]?.Tags, [{ Key: 'Team', Value: 'shop' }]);
    assert.deepEqual(context.callsTo('UntagResourceCommand')[0]?.TagKeys, ['Stale']);
    assert.deepEqual(context.callsTo('UpdateContinuousBackupsCommand')[0]?.PointInTimeRecoverySpecification, { PointInTimeRecoveryEnabled: false });
    assert.deepEqual(context.callsTo('UpdateTimeToLiveCommand')[0]?.TimeToLiveSpecification, { Enabled: false, AttributeName: 'old' });
  });
});

describe('delete', () => {
  test('deletes, and reports Deleting until observe finds it gone', async () => {
    const context = stubContext({ ...existingTable(), DeleteTableCommand: { TableDescription: describedTable({ TableStatus: 'DELETING' }) } }, { resource, tags: TAGS, deleting: true });
    assert.equal(await tableHandler.delete(context, spec), 'Deleting');
    assert.deepEqual(context.commandNames(), ['DescribeTableCommand', 'DeleteTableCommand']);
    const gone = stubContext({ DescribeTableCommand: awsError('ResourceNotFoundException') }, { resource, tags: TAGS, deleting: true });
    assert.equal(await tableHandler.delete(gone, spec), 'Deleted');
  });

  test('deletion protection: a terminal wait naming the fix, unless the spec turns it off', async () => {
    const protectedTable = describedTable({ DeletionProtectionEnabled: true });
    const blocked = stubContext(existingTable(protectedTable), { resource, tags: TAGS, deleting: true });
    await assert.rejects(tableHandler.delete(blocked, spec), (error: Error) => error.name === DELETION_PROTECTED && /deletionProtectionEnabled to false/.test(error.message));
    assert.equal(classifyAwsError(Object.assign(new Error('x'), { name: DELETION_PROTECTED }), tableHandler.errorCodes), ErrorClass.Terminal);

    const allowed = stubContext(
      { ...existingTable(protectedTable), UpdateTableCommand: { TableDescription: describedTable() }, DeleteTableCommand: {} },
      { resource, tags: TAGS, deleting: true },
    );
    assert.equal(await tableHandler.delete(allowed, { ...spec, deletionProtectionEnabled: false }), 'Deleting');
    assert.deepEqual(allowed.callsTo('UpdateTableCommand')[0], { TableName: 'production-products', DeletionProtectionEnabled: false });
  });

  test('a table that is changing is waited out, not deleted', async () => {
    const context = stubContext(existingTable(describedTable({ TableStatus: 'UPDATING' })), { resource, tags: TAGS, deleting: true });
    assert.equal(await tableHandler.delete(context, spec), 'Deleting');
    assert.ok(!context.commandNames().includes('DeleteTableCommand'));
  });
});

describe('errors and connection details', () => {
  test('validation is terminal; limits and a busy table are retryable', () => {
    const codes = tableHandler.errorCodes;
    assert.equal(classifyAwsError(awsError('ValidationException'), codes), ErrorClass.Terminal);
    assert.equal(classifyAwsError(awsError('LimitExceededException'), codes), ErrorClass.Retryable);
    assert.equal(classifyAwsError(awsError('ResourceInUseException'), codes), ErrorClass.Retryable);
    assert.equal(classifyAwsError(awsError('TableNotFoundException'), codes), ErrorClass.NotFound);
  });

  test('connection details name the table, its ARN, its stream when on, and the region', async () => {
    const context = stubContext({}, { resource, tags: TAGS, region: 'eu-west-1' });
    const observed = { exists: true, upToDate: true, ready: true, differences: [], status: { tableName: 't', tableARN: ARN, streamARN: '', itemCount: 0 } };
    assert.deepEqual(await tableHandler.connectionDetails?.(context, spec, observed), { tableName: 't', tableARN: ARN, region: 'eu-west-1' });
    const withStream = { ...observed, status: { ...observed.status, streamARN: `${ARN}/stream/1` } };
    assert.equal((await tableHandler.connectionDetails?.(context, spec, withStream))?.streamARN, `${ARN}/stream/1`);
  });
});
