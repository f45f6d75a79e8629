/**
 * DynamoDBTable: one DynamoDB table with its keys, billing, global and local
 * secondary indexes, stream, point-in-time recovery, TTL, encryption, table
 * class, deletion protection and tags.
 *
 * DynamoDB changes a table in steps. UpdateTable does one thing at a time
 * (change the throughput, create one global index, delete one, switch the
 * stream…), and refuses the next while the table or an index is still
 * CREATING, UPDATING or DELETING. So `update` issues UpdateTable calls one
 * by one, each only while the answer to the previous one shows everything
 * ACTIVE, and stops as soon as AWS is busy. `observe` then reports the table
 * as not ready yet with nothing to change (the work left is named in
 * `state`), so the generic workflow waits on durable timers, with no
 * activity held, and comes back for the next step once AWS is done.
 *
 * The table is found by name: the name is what every DynamoDB call takes,
 * it is unique in the account and region, and it is fixed at creation, so it
 * is the recorded ID too. (The ARN would add nothing: it is the name with the
 * provider's account and region, which the calls get from the provider.)
 */
import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeContinuousBackupsCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  ListTagsOfResourceCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateContinuousBackupsCommand,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  type AttributeDefinition,
  type CreateTableCommandInput,
  type GlobalSecondaryIndexDescription,
  type GlobalSecondaryIndexUpdate,
  type KeySchemaElement,
  type Projection as AwsProjection,
  type SSESpecification,
  type TableDescription,
  type UpdateTableCommandInput,
} from '@aws-sdk/client-dynamodb';
import { keyType, type GlobalSecondaryIndex, type KeyAttribute, type Projection, type TableSpec } from '../../../crds/kinds/dynamodb-table.js';
import { INVALID_SPEC, errorName, isNotFound, unlessNotFound, type ErrorCodes } from '../errors.js';
import { absent, present, type AwsContext, type Lifecycle, type Observation, type ResourceHandler } from '../handler.js';
import { ADOPT_BY_NAME_HINT, alreadyExists, assertNotOwnedByAnother, compareTags, ownership, tagChanges } from '../tags.js';
import { IMMUTABLE_FIELD_CHANGED, formatDifference, immutableFieldError, type Difference } from '../difference.js';

/** Error name of a table AWS differs from in what cannot change (keys, local indexes). */
/** Error name of a deletion AWS would refuse: the table has deletion protection on. */
export const DELETION_PROTECTED = 'DeletionProtected';

const ERROR_CODES: ErrorCodes = {
  // A request AWS refuses as such (bad key types, a quota on indexes, TTL
  // changed twice within its interval): the spec must change, or time pass.
  terminal: ['ValidationException', IMMUTABLE_FIELD_CHANGED, DELETION_PROTECTED],
  // ResourceInUseException: the table (or one of its indexes) is changing;
  // LimitExceededException: too many tables or indexes changing at once in
  // the account. Both clear by themselves.
  retryable: ['LimitExceededException', 'ResourceInUseException'],
  // DescribeContinuousBackups says TableNotFoundException; moto's TTL calls say ResourceNotFound.
  notFound: ['ResourceNotFoundException', 'TableNotFoundException', 'ResourceNotFound'],
};

/** What AWS has for one table; the backup and TTL settings only when the spec manages them. */
export interface ObservedTable {
  table: TableDescription;
  tags: Record<string, string>;
  pointInTimeRecovery?: boolean;
  timeToLive?: { status: string; attributeName?: string };
}


// ---------------------------------------------------------------------------
// Mapping: spec -> AWS. Pure.

function invalidSpec(message: string): Error {
  return Object.assign(new Error(message), { name: INVALID_SPEC });
}

/** A key as AWS's KeySchema spells it. */
function keySchema(hashKey: KeyAttribute, rangeKey?: KeyAttribute): KeySchemaElement[] {
  return [{ AttributeName: hashKey.name, KeyType: 'HASH' }, ...(rangeKey ? [{ AttributeName: rangeKey.name, KeyType: 'RANGE' as const }] : [])];
}

function awsProjection(projection: Projection): AwsProjection {
  return {
    ProjectionType: projection.type,
    ...(projection.nonKeyAttributes ? { NonKeyAttributes: projection.nonKeyAttributes } : {}),
  };
}

/**
 * AttributeDefinitions for these keys: each key attribute once. AWS wants
 * exactly the attributes some key uses, so they are derived, never written.
 * One name with two types is a spec AWS would refuse: InvalidSpec.
 */
export function attributeDefinitions(keys: Array<{ where: string; key: KeyAttribute }>): AttributeDefinition[] {
  const types = new Map<string, { type: ReturnType<typeof keyType>; where: string }>();
  for (const { where, key } of keys) {
    const seen = types.get(key.name);
    const type = keyType(key.type);
    if (seen && seen.type !== type) {
      throw invalidSpec(`attribute ${key.name} is ${seen.type} in ${seen.where} and ${type} in ${where}: give every key of that name one type`);
    }
    if (!seen) types.set(key.name, { type, where });
  }
  return [...types].map(([name, { type }]) => ({ AttributeName: name, AttributeType: type }));
}

function tableKeys(desired: TableSpec): Array<{ where: string; key: KeyAttribute }> {
  return [
    { where: 'hashKey', key: desired.hashKey },
    ...(desired.rangeKey ? [{ where: 'rangeKey', key: desired.rangeKey }] : []),
    ...(desired.localSecondaryIndexes ?? []).flatMap((index) => [{ where: `localSecondaryIndexes[${index.indexName}].rangeKey`, key: index.rangeKey }]),
  ];
}

function indexKeys(index: GlobalSecondaryIndex): Array<{ where: string; key: KeyAttribute }> {
  return [
    { where: `globalSecondaryIndexes[${index.indexName}].hashKey`, key: index.hashKey },
    ...(index.rangeKey ? [{ where: `globalSecondaryIndexes[${index.indexName}].rangeKey`, key: index.rangeKey }] : []),
  ];
}

function provisioned(desired: TableSpec): boolean {
  return desired.billingMode === 'PROVISIONED';
}

function indexThroughput(index: GlobalSecondaryIndex) {
  return index.readCapacityUnits !== undefined && index.writeCapacityUnits !== undefined
    ? { ProvisionedThroughput: { ReadCapacityUnits: index.readCapacityUnits, WriteCapacityUnits: index.writeCapacityUnits } }
    : {};
}

function globalIndex(index: GlobalSecondaryIndex) {
  return { IndexName: index.indexName, KeySchema: keySchema(index.hashKey, index.rangeKey), Projection: awsProjection(index.projection), ...indexThroughput(index) };
}

/** The SSESpecification of an encryption choice; AWS-owned keys are DynamoDB's default, spelled "disabled". */
export function sseSpecification(encryption: NonNullable<TableSpec['encryption']>): SSESpecification {
  if (encryption.type === 'AWS_OWNED') return { Enabled: false };
  return { Enabled: true, SSEType: 'KMS', ...(encryption.type === 'CUSTOMER_MANAGED' ? { KMSMasterKeyId: encryption.kmsKeyID } : {}) };
}

/** The CreateTable call for a spec: everything CreateTable takes, tags included, so the table is never untagged. */
export function createTableInput(desired: TableSpec, tags: Record<string, string>): CreateTableCommandInput {
  const indexes = desired.globalSecondaryIndexes ?? [];
  return {
    TableName: desired.tableName,
    AttributeDefinitions: attributeDefinitions([...tableKeys(desired), ...indexes.flatMap(indexKeys)]),
    KeySchema: keySchema(desired.hashKey, desired.rangeKey),
    BillingMode: desired.billingMode ?? 'PAY_PER_REQUEST',
    ...(provisioned(desired) && desired.readCapacityUnits !== undefined && desired.writeCapacityUnits !== undefined
      ? { ProvisionedThroughput: { ReadCapacityUnits: desired.readCapacityUnits, WriteCapacityUnits: desired.writeCapacityUnits } }
      : {}),
    ...(indexes.length ? { GlobalSecondaryIndexes: indexes.map(globalIndex) } : {}),
    ...(desired.localSecondaryIndexes?.length
      ? {
          LocalSecondaryIndexes: desired.localSecondaryIndexes.map((index) => ({
            IndexName: index.indexName,
            KeySchema: keySchema(desired.hashKey, index.rangeKey),
            Projection: awsProjection(index.projection),
          })),
        }
      : {}),
    ...(desired.streamSpecification?.streamEnabled
      ? { StreamSpecification: { StreamEnabled: true, StreamViewType: desired.streamSpecification.streamViewType } }
      : {}),
    ...(desired.encryption && desired.encryption.type !== 'AWS_OWNED' ? { SSESpecification: sseSpecification(desired.encryption) } : {}),
    ...(desired.tableClass ? { TableClass: desired.tableClass } : {}),
    ...(desired.deletionProtectionEnabled !== undefined ? { DeletionProtectionEnabled: desired.deletionProtectionEnabled } : {}),
    Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
  };
}

// ---------------------------------------------------------------------------
// Reading AWS's answer. Pure.

function attributeType(table: TableDescription, name: string | undefined): string {
  return table.AttributeDefinitions?.find((definition) => definition.AttributeName === name)?.AttributeType ?? '?';
}

/** A key schema as `userID(S), timestamp(N)`, with types from the table's attribute definitions. */
function describeKeys(table: TableDescription, schema: KeySchemaElement[] | undefined): string {
  const ordered = [...(schema ?? [])].sort((a, b) => (a.KeyType === 'HASH' ? -1 : b.KeyType === 'HASH' ? 1 : 0));
  return ordered.map((key) => `${key.AttributeName}(${attributeType(table, key.AttributeName)})`).join(', ');
}

function describeDesiredKeys(hashKey: KeyAttribute, rangeKey?: KeyAttribute): string {
  return [hashKey, ...(rangeKey ? [rangeKey] : [])].map((key) => `${key.name}(${keyType(key.type)})`).join(', ');
}

function describeProjection(projection: AwsProjection | undefined): string {
  const attributes = [...(projection?.NonKeyAttributes ?? [])].sort();
  return `${projection?.ProjectionType ?? 'ALL'}${attributes.length ? ` [${attributes.join(', ')}]` : ''}`;
}

function describeDesiredProjection(projection: Projection): string {
  return describeProjection(awsProjection(projection));
}

/** What AWS is in the middle of, e.g. `table UPDATING`, `index CategoryIndex CREATING`; empty when all is ACTIVE. */
export function transitions(table: TableDescription): string[] {
  const busy: string[] = [];
  if (table.TableStatus === 'CREATING' || table.TableStatus === 'UPDATING') busy.push(`table ${table.TableStatus}`);
  for (const index of table.GlobalSecondaryIndexes ?? []) {
    if (index.IndexStatus && index.IndexStatus !== 'ACTIVE') busy.push(`index ${index.IndexName} ${index.IndexStatus}`);
  }
  const sse = table.SSEDescription?.Status;
  if (sse === 'ENABLING' || sse === 'DISABLING' || sse === 'UPDATING') busy.push(`encryption ${sse}`);
  return busy;
}

/** A table status in the workflow's terms. */
export function lifecycleOf(status: string | undefined): { lifecycle?: Lifecycle } {
  switch (status) {
    case 'CREATING':
    case 'UPDATING':
      return { lifecycle: 'Pending' };
    case 'ACTIVE':
      return { lifecycle: 'Available' };
    case 'DELETING':
      return { lifecycle: 'Deleting' };
    case 'ARCHIVING':
    case 'ARCHIVED':
    case 'INACCESSIBLE_ENCRYPTION_CREDENTIALS':
    case 'REPLICATION_NOT_AUTHORIZED':
      return { lifecycle: 'Failed' };
    default:
      return {};
  }
}

function streamEnabled(table: TableDescription): boolean {
  return table.StreamSpecification?.StreamEnabled === true;
}

/** The status fields of a table. */
export function tableStatus(table: TableDescription): Observation['status'] {
  return {
    tableName: table.TableName ?? '',
    tableStatus: table.TableStatus ?? '',
    tableARN: table.TableArn ?? '',
    // A disabled stream stays readable for a day and AWS keeps naming it;
    // the status names only a stream that is on.
    streamARN: streamEnabled(table) ? (table.LatestStreamArn ?? '') : '',
    itemCount: table.ItemCount ?? 0,
  };
}

function observedBilling(table: TableDescription): string {
  // Tables created before on-demand existed have no summary: PROVISIONED.
  return table.BillingModeSummary?.BillingMode ?? 'PROVISIONED';
}

function capacity(throughput: { ReadCapacityUnits?: number; WriteCapacityUnits?: number } | undefined): string {
  return `${throughput?.ReadCapacityUnits ?? 0}/${throughput?.WriteCapacityUnits ?? 0}`;
}

function desiredCapacity(spec: { readCapacityUnits?: number; writeCapacityUnits?: number }): string {
  return `${spec.readCapacityUnits ?? 0}/${spec.writeCapacityUnits ?? 0}`;
}

/** The encryption AWS has, in the spec's terms (AWS-managed and customer keys look alike: see compareEncryption). */
function observedEncryption(table: TableDescription): { type: 'AWS_OWNED' | 'KMS'; keyArn?: string } {
  const sse = table.SSEDescription;
  if (!sse || sse.Status === 'DISABLED' || sse.Status === 'DISABLING' || sse.SSEType !== 'KMS') return { type: 'AWS_OWNED' };
  return { type: 'KMS', ...(sse.KMSMasterKeyArn ? { keyArn: sse.KMSMasterKeyArn } : {}) };
}

/** True when `kmsKeyID` (an ARN, a key ID or an alias) names the key of `keyArn`. */
export function sameKmsKey(kmsKeyID: string, keyArn: string | undefined): boolean {
  if (!keyArn) return false;
  if (kmsKeyID === keyArn) return true;
  // An alias resolves only through KMS, which this kind does not call:
  // any KMS key is taken to be it, rather than re-encrypting in a loop.
  if (kmsKeyID.startsWith('alias/') || kmsKeyID.includes(':alias/')) return true;
  return keyArn.endsWith(`:key/${kmsKeyID}`);
}

/**
 * The encryption difference. DynamoDB reports an AWS-managed key and a
 * customer key the same way (SSEType KMS and the key's ARN), and telling
 * them apart takes KMS, so AWS_MANAGED accepts any KMS key; CUSTOMER_MANAGED
 * compares the key itself.
 */
export function compareEncryption(desired: NonNullable<TableSpec['encryption']>, table: TableDescription): Difference | undefined {
  const current = observedEncryption(table);
  const currentText = current.type === 'AWS_OWNED' ? 'AWS_OWNED' : `KMS ${current.keyArn ?? ''}`.trim();
  const wantedText = desired.type === 'CUSTOMER_MANAGED' ? `KMS ${desired.kmsKeyID ?? ''}` : desired.type;
  if (desired.type === 'AWS_OWNED' && current.type === 'AWS_OWNED') return undefined;
  if (desired.type === 'AWS_MANAGED' && current.type === 'KMS') return undefined;
  if (desired.type === 'CUSTOMER_MANAGED' && current.type === 'KMS' && sameKmsKey(desired.kmsKeyID ?? '', current.keyArn)) return undefined;
  return { field: 'encryption', detail: `${currentText} -> ${wantedText}` };
}

/** The observed global index that `desired` can keep, or why it must be re-created. */
function indexMismatch(table: TableDescription, desired: GlobalSecondaryIndex, observed: GlobalSecondaryIndexDescription): string | undefined {
  const keys = describeKeys(table, observed.KeySchema);
  const wantedKeys = describeDesiredKeys(desired.hashKey, desired.rangeKey);
  if (keys !== wantedKeys) return `keys ${keys} -> ${wantedKeys}`;
  const projection = describeProjection(observed.Projection);
  const wantedProjection = describeDesiredProjection(desired.projection);
  if (projection !== wantedProjection) return `projection ${projection} -> ${wantedProjection}`;
  return undefined;
}

/** The plan for the global indexes: which go, which throughputs change, which come. */
export function planIndexes(desired: TableSpec, table: TableDescription) {
  const wanted = new Map((desired.globalSecondaryIndexes ?? []).map((index) => [index.indexName, index]));
  const observed = table.GlobalSecondaryIndexes ?? [];
  const remove: Array<{ name: string; why: string }> = [];
  const kept: Array<{ desired: GlobalSecondaryIndex; observed: GlobalSecondaryIndexDescription }> = [];
  for (const index of observed) {
    const name = index.IndexName ?? '';
    const match = wanted.get(name);
    if (!match) {
      remove.push({ name, why: 'not in the spec' });
      continue;
    }
    const mismatch = indexMismatch(table, match, index);
    if (mismatch) remove.push({ name, why: `${mismatch}: re-created` });
    else kept.push({ desired: match, observed: index });
  }
  const keptNames = new Set(kept.map((entry) => entry.desired.indexName));
  const add = [...wanted.values()].filter((index) => !keptNames.has(index.indexName));
  const throughput = provisioned(desired)
    ? kept.filter((entry) => desiredCapacity(entry.desired) !== capacity(entry.observed.ProvisionedThroughput))
    : [];
  return { remove, kept, add, throughput };
}

/** Keys and local indexes, which AWS fixes at creation. */
function compareImmutable(desired: TableSpec, table: TableDescription): Difference[] {
  const differences: Difference[] = [];
  const keys = describeKeys(table, table.KeySchema);
  const wantedKeys = describeDesiredKeys(desired.hashKey, desired.rangeKey);
  if (keys !== wantedKeys) differences.push({ field: 'hashKey/rangeKey', detail: `${keys} -> ${wantedKeys}`, immutable: true });
  const describeLocal = (indexes: Array<{ name: string; keys: string; projection: string }>) =>
    indexes
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map((index) => `${index.name} ${index.keys} ${index.projection}`)
      .join('; ') || 'none';
  const local = describeLocal(
    (table.LocalSecondaryIndexes ?? []).map((index) => ({
      name: index.IndexName ?? '',
      keys: describeKeys(table, index.KeySchema),
      projection: describeProjection(index.Projection),
    })),
  );
  const wantedLocal = describeLocal(
    (desired.localSecondaryIndexes ?? []).map((index) => ({
      name: index.indexName,
      keys: describeDesiredKeys(desired.hashKey, index.rangeKey),
      projection: describeDesiredProjection(index.projection),
    })),
  );
  if (local !== wantedLocal) differences.push({ field: 'localSecondaryIndexes', detail: `${local} -> ${wantedLocal}`, immutable: true });
  return differences;
}

function compareStream(desired: NonNullable<TableSpec['streamSpecification']>, table: TableDescription): Difference | undefined {
  const current = streamEnabled(table) ? (table.StreamSpecification?.StreamViewType ?? 'on') : 'off';
  const wanted = desired.streamEnabled ? (desired.streamViewType ?? 'on') : 'off';
  if (current === wanted) return undefined;
  const restart = current !== 'off' && wanted !== 'off' ? ' (turned off, then on: a new stream)' : '';
  return { field: 'streamSpecification', detail: `${current} -> ${wanted}${restart}` };
}

/** TTL matches when it is (becoming) what the spec says; ENABLING and DISABLING count as done, since AWS finishes them alone. */
export function compareTimeToLive(desired: NonNullable<TableSpec['timeToLive']>, observed: ObservedTable['timeToLive']): Difference | undefined {
  const on = observed?.status === 'ENABLED' || observed?.status === 'ENABLING';
  const current = on ? `on (${observed?.attributeName ?? '?'})` : 'off';
  const wanted = desired.enabled ? `on (${desired.attributeName})` : 'off';
  return current === wanted ? undefined : { field: 'timeToLive', detail: `${current} -> ${wanted}` };
}

/** Every field where AWS differs from the spec. */
export function compareTable(desired: TableSpec, observed: ObservedTable, desiredTags: Record<string, string>): Difference[] {
  const { table } = observed;
  const differences = compareImmutable(desired, table);
  const billing = desired.billingMode ?? 'PAY_PER_REQUEST';
  if (observedBilling(table) !== billing) differences.push({ field: 'billingMode', detail: `${observedBilling(table)} -> ${billing}` });
  if (provisioned(desired) && capacity(table.ProvisionedThroughput) !== desiredCapacity(desired)) {
    differences.push({ field: 'capacity', detail: `${capacity(table.ProvisionedThroughput)} -> ${desiredCapacity(desired)}` });
  }
  const indexes = planIndexes(desired, table);
  for (const { name, why } of indexes.remove) differences.push({ field: `globalSecondaryIndexes[${name}]`, detail: `remove (${why})` });
  for (const { desired: index, observed: current } of indexes.throughput) {
    differences.push({ field: `globalSecondaryIndexes[${index.indexName}].capacity`, detail: `${capacity(current.ProvisionedThroughput)} -> ${desiredCapacity(index)}` });
  }
  for (const index of indexes.add) differences.push({ field: `globalSecondaryIndexes[${index.indexName}]`, detail: 'add' });
  if (desired.streamSpecification) {
    const stream = compareStream(desired.streamSpecification, table);
    if (stream) differences.push(stream);
  }
  if (desired.pointInTimeRecovery && observed.pointInTimeRecovery !== desired.pointInTimeRecovery.enabled) {
    const state = (on: boolean | undefined) => (on ? 'enabled' : 'disabled');
    differences.push({ field: 'pointInTimeRecovery', detail: `${state(observed.pointInTimeRecovery)} -> ${state(desired.pointInTimeRecovery.enabled)}` });
  }
  if (desired.timeToLive) {
    const ttl = compareTimeToLive(desired.timeToLive, observed.timeToLive);
    if (ttl) differences.push(ttl);
  }
  if (desired.encryption) {
    const encryption = compareEncryption(desired.encryption, table);
    if (encryption) differences.push(encryption);
  }
  const tableClass = table.TableClassSummary?.TableClass ?? 'STANDARD';
  if (desired.tableClass && desired.tableClass !== tableClass) differences.push({ field: 'tableClass', detail: `${tableClass} -> ${desired.tableClass}` });
  const protection = table.DeletionProtectionEnabled ?? false;
  if (desired.deletionProtectionEnabled !== undefined && desired.deletionProtectionEnabled !== protection) {
    differences.push({ field: 'deletionProtectionEnabled', detail: `${protection} -> ${desired.deletionProtectionEnabled}` });
  }
  const tags = compareTags(desiredTags, observed.tags);
  if (tags) differences.push({ field: 'tags', detail: tags });
  return differences;
}

/** One UpdateTable call and what it does, for messages and for not sending it twice in one activity. */
export interface TableStep {
  what: string;
  input: UpdateTableCommandInput;
}

/**
 * The next UpdateTable call, in the order AWS needs them: global indexes
 * removed first (one per call; this frees index slots and lets an index
 * with new keys be re-created under its name), then billing mode and
 * throughput (the table's and the kept indexes' together: switching to
 * PROVISIONED needs all of them in the same call), then indexes added (one
 * per call; after the billing mode, since a new index's throughput must
 * match it), then the stream (off before on, when its view type changes),
 * encryption, table class and deletion protection. Undefined when nothing
 * UpdateTable does differs.
 */
export function nextTableStep(desired: TableSpec, table: TableDescription): TableStep | undefined {
  const TableName = desired.tableName;
  const indexes = planIndexes(desired, table);
  const removed = indexes.remove[0];
  if (removed) {
    return { what: `remove global index ${removed.name}`, input: { TableName, GlobalSecondaryIndexUpdates: [{ Delete: { IndexName: removed.name } }] } };
  }
  const billing = desired.billingMode ?? 'PAY_PER_REQUEST';
  const billingChanges = observedBilling(table) !== billing;
  const tableCapacityChanges = provisioned(desired) && capacity(table.ProvisionedThroughput) !== desiredCapacity(desired);
  if (billingChanges || tableCapacityChanges || indexes.throughput.length) {
    const updates: GlobalSecondaryIndexUpdate[] = (billingChanges && provisioned(desired) ? indexes.kept : indexes.throughput).map(({ desired: index }) => ({
      Update: { IndexName: index.indexName, ProvisionedThroughput: indexThroughput(index).ProvisionedThroughput },
    }));
    return {
      what: billingChanges ? `switch billing to ${billing}` : 'change provisioned throughput',
      input: {
        TableName,
        ...(billingChanges ? { BillingMode: billing } : {}),
        ...((billingChanges || tableCapacityChanges) && provisioned(desired)
          ? { ProvisionedThroughput: { ReadCapacityUnits: desired.readCapacityUnits, WriteCapacityUnits: desired.writeCapacityUnits } }
          : {}),
        ...(updates.length ? { GlobalSecondaryIndexUpdates: updates } : {}),
      },
    };
  }
  const added = indexes.add[0];
  if (added) {
    // AWS wants the definitions of every key the table and its indexes use
    // after this call, the new index's included.
    const keys = [...tableKeys(desired), ...indexes.kept.flatMap((entry) => indexKeys(entry.desired)), ...indexKeys(added)];
    return {
      what: `add global index ${added.indexName}`,
      input: { TableName, AttributeDefinitions: attributeDefinitions(keys), GlobalSecondaryIndexUpdates: [{ Create: globalIndex(added) }] },
    };
  }
  if (desired.streamSpecification && compareStream(desired.streamSpecification, table)) {
    // A stream's view type cannot change in place: it is turned off, and on
    // again by the next step once the table is ACTIVE.
    const turnOff = streamEnabled(table);
    return {
      what: turnOff ? 'turn the stream off' : 'turn the stream on',
      input: {
        TableName,
        StreamSpecification: turnOff ? { StreamEnabled: false } : { StreamEnabled: true, StreamViewType: desired.streamSpecification.streamViewType },
      },
    };
  }
  if (desired.encryption && compareEncryption(desired.encryption, table)) {
    return { what: `change encryption to ${desired.encryption.type}`, input: { TableName, SSESpecification: sseSpecification(desired.encryption) } };
  }
  if (desired.tableClass && desired.tableClass !== (table.TableClassSummary?.TableClass ?? 'STANDARD')) {
    return { what: `change table class to ${desired.tableClass}`, input: { TableName, TableClass: desired.tableClass } };
  }
  if (desired.deletionProtectionEnabled !== undefined && desired.deletionProtectionEnabled !== (table.DeletionProtectionEnabled ?? false)) {
    return {
      what: `turn deletion protection ${desired.deletionProtectionEnabled ? 'on' : 'off'}`,
      input: { TableName, DeletionProtectionEnabled: desired.deletionProtectionEnabled },
    };
  }
  return undefined;
}


// ---------------------------------------------------------------------------
// AWS calls.

async function describeTable(dynamodb: DynamoDBClient, TableName: string): Promise<TableDescription | undefined> {
  const answer = await unlessNotFound(dynamodb.send(new DescribeTableCommand({ TableName })), ERROR_CODES);
  return answer?.Table;
}

/** Every tag of the table; ListTagsOfResource pages (moto by 10). */
async function readTags(dynamodb: DynamoDBClient, ResourceArn: string): Promise<Record<string, string>> {
  const tags: Record<string, string> = {};
  let NextToken: string | undefined;
  do {
    const page = await dynamodb.send(new ListTagsOfResourceCommand({ ResourceArn, ...(NextToken ? { NextToken } : {}) }));
    for (const tag of page.Tags ?? []) tags[tag.Key ?? ''] = tag.Value ?? '';
    NextToken = page.NextToken;
  } while (NextToken);
  return tags;
}

/** The table, its tags and (only when the spec manages them) its backup and TTL settings. */
async function readTable(dynamodb: DynamoDBClient, desired: TableSpec, table: TableDescription, withSettings: boolean): Promise<ObservedTable> {
  const wantsBackups = withSettings && desired.pointInTimeRecovery !== undefined;
  const wantsTtl = withSettings && desired.timeToLive !== undefined;
  const [tags, backups, ttl] = await Promise.all([
    readTags(dynamodb, table.TableArn ?? ''),
    wantsBackups ? dynamodb.send(new DescribeContinuousBackupsCommand({ TableName: desired.tableName })) : undefined,
    wantsTtl ? dynamodb.send(new DescribeTimeToLiveCommand({ TableName: desired.tableName })) : undefined,
  ]);
  return {
    table,
    tags,
    ...(backups
      ? { pointInTimeRecovery: backups.ContinuousBackupsDescription?.PointInTimeRecoveryDescription?.PointInTimeRecoveryStatus === 'ENABLED' }
      : {}),
    ...(ttl
      ? {
          timeToLive: {
            status: ttl.TimeToLiveDescription?.TimeToLiveStatus ?? 'DISABLED',
            ...(ttl.TimeToLiveDescription?.AttributeName ? { attributeName: ttl.TimeToLiveDescription.AttributeName } : {}),
          },
        }
      : {}),
  };
}

/**
 * Fixes what differs, and only that: tags, backups and TTL (calls of their
 * own, taken in any table state but DELETING), then UpdateTable steps, one
 * at a time, while AWS's answer shows the table and its indexes ACTIVE.
 * When AWS is busy it stops: observe reports the wait, and the workflow
 * calls update again once AWS is done.
 */
async function reconcileTable(context: AwsContext, dynamodb: DynamoDBClient, desired: TableSpec, observed: ObservedTable): Promise<void> {
  const error = immutableFieldError(`table ${desired.tableName}`, compareTable(desired, observed, context.tags));
  if (error) throw error;
  const { table } = observed;
  const ResourceArn = table.TableArn ?? '';
  const { set, remove } = tagChanges(context.tags, observed.tags);
  if (Object.keys(set).length) {
    await dynamodb.send(new TagResourceCommand({ ResourceArn, Tags: Object.entries(set).map(([Key, Value]) => ({ Key, Value })) }));
  }
  if (remove.length) await dynamodb.send(new UntagResourceCommand({ ResourceArn, TagKeys: remove }));
  if (desired.pointInTimeRecovery && observed.pointInTimeRecovery !== desired.pointInTimeRecovery.enabled) {
    await dynamodb.send(
      new UpdateContinuousBackupsCommand({
        TableName: desired.tableName,
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: desired.pointInTimeRecovery.enabled },
      }),
    );
  }
  if (desired.timeToLive && compareTimeToLive(desired.timeToLive, observed.timeToLive)) {
    const current = observed.timeToLive;
    const on = current?.status === 'ENABLED' || current?.status === 'ENABLING';
    // A new attribute name needs TTL off first; the next pass turns it on.
    const TimeToLiveSpecification =
      on && current?.attributeName
        ? { Enabled: false, AttributeName: current.attributeName }
        : { Enabled: desired.timeToLive.enabled, AttributeName: desired.timeToLive.attributeName };
    if (on || desired.timeToLive.enabled) {
      await dynamodb.send(new UpdateTimeToLiveCommand({ TableName: desired.tableName, TimeToLiveSpecification }));
    }
  }
  let latest = table;
  const issued = new Set<string>();
  for (;;) {
    if (transitions(latest).length) return;
    const step = nextTableStep(desired, latest);
    // A step AWS has taken but not yet shows in its answer: observe will tell.
    if (!step || issued.has(step.what)) return;
    issued.add(step.what);
    context.heartbeat();
    const answer = await dynamodb.send(new UpdateTableCommand(step.input));
    if (!answer.TableDescription) return;
    latest = answer.TableDescription;
  }
}

function deletionProtected(tableName: string): Error {
  return Object.assign(
    new Error(
      `table ${tableName} has deletion protection on, so AWS refuses to delete it: set spec.deletionProtectionEnabled to false to let the operator turn it off and delete the table, or set deletionPolicy Retain to keep it`,
    ),
    { name: DELETION_PROTECTED },
  );
}

/** The DynamoDBTable handler. */
export const tableHandler: ResourceHandler<TableSpec> = {
  kind: 'DynamoDBTable',
  // CreateTable takes the tags.
  createsTagged: true,
  errorCodes: ERROR_CODES,

  async observe(context, desired) {
    const dynamodb = context.client(DynamoDBClient);
    const table = await describeTable(dynamodb, desired.tableName);
    if (!table) return absent();
    // Deleting: only whose it is and whether AWS is removing it matter.
    const observed = await readTable(dynamodb, desired, table, !context.deleting);
    const found = { id: desired.tableName, status: tableStatus(table), ...lifecycleOf(table.TableStatus), ...ownership(context, observed.tags) };
    if (context.deleting) return present({ ...found, differences: [], ready: false, state: table.TableStatus ?? 'unknown' });
    if (found.lifecycle === 'Failed') {
      // Archived, or its KMS key is gone: AWS takes no change until that is
      // fixed outside the operator, so this is waited out, not updated.
      return present({ ...found, differences: [], ready: false, state: table.TableStatus ?? 'unknown' });
    }
    const differences = compareTable(desired, observed, context.tags).map(formatDifference);
    const busy = transitions(table);
    if (busy.length) {
      // AWS refuses changes while it is busy, and the workflow calls update
      // whenever something differs: so nothing is reported to change now,
      // and what is left to do is named in the state it waits on.
      const next = differences.length ? `; then: ${differences.join('; ')}` : '';
      return present({ ...found, differences: [], ready: false, state: `${busy.join(', ')}${next}` });
    }
    return present({ ...found, differences, ready: table.TableStatus === 'ACTIVE', state: table.TableStatus ?? 'unknown' });
  },

  async create(context, desired) {
    const dynamodb = context.client(DynamoDBClient);
    let created: TableDescription | undefined;
    try {
      created = (await dynamodb.send(new CreateTableCommand(createTableInput(desired, context.tags)))).TableDescription;
    } catch (error) {
      if (errorName(error) !== 'ResourceInUseException') throw error;
      // The name is taken: by an earlier attempt of ours (a crash before its
      // answer was recorded), by another resource, or by a table made
      // outside the operator since observe looked, which is left alone.
      const existing = await describeTable(dynamodb, desired.tableName);
      if (!existing) throw error;
      const observed = await readTable(dynamodb, desired, existing, true);
      assertNotOwnedByAnother(context, `table ${desired.tableName}`, observed.tags);
      if (ownership(context, observed.tags).unmanaged) throw alreadyExists(`table ${desired.tableName}`, ADOPT_BY_NAME_HINT);
      // Ours and being deleted: the create must wait until it is gone.
      if (existing.TableStatus === 'DELETING') throw error;
      await reconcileTable(context, dynamodb, desired, observed);
      return;
    }
    // AWS answers CREATING and the rest waits for ACTIVE (observe, then
    // update); an endpoint that answers ACTIVE (moto) gets backups and TTL
    // now. A new table has both off and carries exactly our tags.
    if (created?.TableStatus === 'ACTIVE') {
      const fresh: ObservedTable = {
        table: created,
        tags: context.tags,
        pointInTimeRecovery: false,
        timeToLive: { status: 'DISABLED' },
      };
      await reconcileTable(context, dynamodb, desired, fresh);
    }
  },

  async update(context, desired) {
    const dynamodb = context.client(DynamoDBClient);
    // Read again rather than trust the observation: it holds readable
    // differences, not the tag keys to remove or the index states, and an
    // activity retry may hand it an old one.
    const table = await describeTable(dynamodb, desired.tableName);
    if (!table) return;
    await reconcileTable(context, dynamodb, desired, await readTable(dynamodb, desired, table, true));
  },

  async delete(context, desired) {
    const dynamodb = context.client(DynamoDBClient);
    const table = await describeTable(dynamodb, desired.tableName);
    if (!table) return 'Deleted';
    if (table.TableStatus === 'DELETING') return 'Deleting';
    // AWS refuses to delete a table while it or an index changes: look
    // again after a durable wait.
    if (transitions(table).length) return 'Deleting';
    if (table.DeletionProtectionEnabled) {
      // Never turned off behind the user's back: only a spec that says so.
      if (desired.deletionProtectionEnabled !== false) throw deletionProtected(desired.tableName);
      await dynamodb.send(new UpdateTableCommand({ TableName: desired.tableName, DeletionProtectionEnabled: false }));
    }
    try {
      await dynamodb.send(new DeleteTableCommand({ TableName: desired.tableName }));
    } catch (error) {
      if (isNotFound(error, ERROR_CODES)) return 'Deleted';
      if (errorName(error) === 'ResourceInUseException') return 'Deleting';
      throw error;
    }
    // AWS answers DELETING and removes it within seconds to minutes; the
    // next observe tells when it is gone.
    return 'Deleting';
  },

  async connectionDetails(context, _desired, observed) {
    const status = observed.status;
    const text = (field: string) => {
      const value = status[field];
      return typeof value === 'string' ? value : '';
    };
    return {
      tableName: text('tableName'),
      tableARN: text('tableARN'),
      ...(text('streamARN') ? { streamARN: text('streamARN') } : {}),
      region: context.region,
    };
  },
};
