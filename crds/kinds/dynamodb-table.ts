import { Kind, Type, TypeRegistry, type Static } from '@sinclair/typebox';
import { ageColumn, defineKind, phaseColumn, providerReference, readyColumn, reasonColumn } from '../kind.js';
import {
  ConnectionSecretRef,
  DeletionPolicySchema,
  ProviderRef,
  StringEnum,
  Tags,
  commonStatusProperties,
  immutable,
  withRules,
} from '../schema.js';

/** Most GSIs and LSIs a table may have (AWS's default quotas). */
export const MAX_GLOBAL_INDEXES = 20;
export const MAX_LOCAL_INDEXES = 5;

const AttributeName = Type.String({ minLength: 1, maxLength: 255, description: 'attribute name, 1-255 characters' });

/** The scalar types of a key attribute. */
export const KEY_TYPES = ['S', 'N', 'B'] as const;

// kubectl reads YAML 1.1, where an unquoted N is the boolean false, and the
// guide writes `type: N` unquoted. So the field takes that false too (and
// the handler reads it as N): a plain string schema would refuse the
// guide's manifests. Structural schemas allow an untyped leaf only with
// x-kubernetes-preserve-unknown-fields, and the API server cannot compile a
// CEL rule on one; so the worker's schema check (this registered kind)
// refuses any other value as InvalidSpec, before any AWS call.
TypeRegistry.Set('DynamoDBKeyType', (_schema, value) => value === false || (typeof value === 'string' && (KEY_TYPES as readonly string[]).includes(value)));

/** S, N or B; `false` is how kubectl delivers an unquoted N, and means N. */
export const KeyType = Type.Unsafe<(typeof KEY_TYPES)[number] | false>({
  [Kind]: 'DynamoDBKeyType',
  'x-kubernetes-preserve-unknown-fields': true,
  description: 'S (string), N (number) or B (binary). An unquoted N, which YAML 1.1 (kubectl) reads as false, is taken as N',
});

/** The key type a spec means: an unquoted N arrives as false. */
export function keyType(type: (typeof KEY_TYPES)[number] | false): (typeof KEY_TYPES)[number] {
  return type === false ? 'N' : type;
}

/** A key attribute: its name and scalar type. The table's attribute definitions are derived from these. */
export const KeyAttribute = Type.Object(
  {
    name: AttributeName,
    type: KeyType,
  },
  { description: 'a key attribute, name and type; the attribute definitions AWS needs are derived from the keys of the table and its indexes' },
);
export type KeyAttribute = Static<typeof KeyAttribute>;

const IndexName = Type.String({
  minLength: 3,
  maxLength: 255,
  pattern: '^[a-zA-Z0-9_.-]+$',
  description: 'index name, 3-255 letters, digits, underscores, hyphens and dots',
});

export const Projection = withRules(
  Type.Object(
    {
      type: StringEnum(['ALL', 'KEYS_ONLY', 'INCLUDE'] as const, {
        description: 'ALL copies every attribute into the index, KEYS_ONLY only the keys, INCLUDE the keys and nonKeyAttributes',
      }),
      nonKeyAttributes: Type.Optional(
        Type.Array(AttributeName, { minItems: 1, maxItems: 100, description: 'INCLUDE only: the other attributes copied into the index' }),
      ),
    },
    { description: 'which attributes the index holds; changing it re-creates a global index' },
  ),
  [{ rule: "(self.type == 'INCLUDE') == has(self.nonKeyAttributes)", message: 'projection.nonKeyAttributes is required with type INCLUDE and allowed only with it' }],
);
export type Projection = Static<typeof Projection>;

const Capacity = (what: string) =>
  Type.Integer({ minimum: 1, description: `${what}; required with billingMode PROVISIONED, refused with PAY_PER_REQUEST` });

export const GlobalSecondaryIndex = Type.Object(
  {
    indexName: IndexName,
    hashKey: { ...KeyAttribute, description: 'partition key of the index' },
    rangeKey: Type.Optional({ ...KeyAttribute, description: 'sort key of the index' }),
    projection: Projection,
    readCapacityUnits: Type.Optional(Capacity('read capacity units of the index')),
    writeCapacityUnits: Type.Optional(Capacity('write capacity units of the index')),
  },
  {
    description:
      'a global secondary index. Indexes are added and removed one at a time, each waited on until AWS has finished it; changing the keys or projection of an index removes it and adds it again',
  },
);
export type GlobalSecondaryIndex = Static<typeof GlobalSecondaryIndex>;

export const LocalSecondaryIndex = Type.Object(
  {
    indexName: IndexName,
    rangeKey: { ...KeyAttribute, description: "sort key of the index; its partition key is the table's hashKey" },
    projection: Projection,
  },
  { description: 'a local secondary index (same partition key as the table, another sort key)' },
);
export type LocalSecondaryIndex = Static<typeof LocalSecondaryIndex>;

export const TableSpec = Type.Object({
  providerRef: ProviderRef,
  tableName: immutable(
    Type.String({
      minLength: 3,
      maxLength: 255,
      pattern: '^[a-zA-Z0-9_.-]+$',
      description: 'table name, 3-255 letters, digits, underscores, hyphens and dots, unique in the account and region. Fixed at creation',
    }),
    'tableName',
  ),
  hashKey: immutable({ ...KeyAttribute, description: 'partition key of the table. Fixed at creation' }, 'hashKey'),
  rangeKey: Type.Optional(immutable({ ...KeyAttribute, description: 'sort key of the table; unset: none. Fixed at creation' }, 'rangeKey')),
  billingMode: Type.Optional(
    StringEnum(['PAY_PER_REQUEST', 'PROVISIONED'] as const, {
      default: 'PAY_PER_REQUEST',
      description:
        'PAY_PER_REQUEST (on demand, the default) or PROVISIONED, which needs readCapacityUnits and writeCapacityUnits on the table and on every global index',
    }),
  ),
  readCapacityUnits: Type.Optional(Capacity('read capacity units of the table')),
  writeCapacityUnits: Type.Optional(Capacity('write capacity units of the table')),
  globalSecondaryIndexes: Type.Optional(
    Type.Array(GlobalSecondaryIndex, {
      maxItems: MAX_GLOBAL_INDEXES,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['indexName'],
      description: `global secondary indexes, at most ${MAX_GLOBAL_INDEXES}, one per indexName; the operator owns the full set, so unset means none (an index added by hand is removed)`,
    }),
  ),
  localSecondaryIndexes: Type.Optional(
    immutable(
      Type.Array(LocalSecondaryIndex, {
        maxItems: MAX_LOCAL_INDEXES,
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['indexName'],
        description: `local secondary indexes, at most ${MAX_LOCAL_INDEXES}; they need a rangeKey on the table. AWS makes them only with the table: fixed at creation`,
      }),
      'localSecondaryIndexes',
    ),
  ),
  streamSpecification: Type.Optional(
    Type.Object(
      {
        streamEnabled: Type.Boolean({ description: 'true turns the DynamoDB stream on, false off' }),
        streamViewType: Type.Optional(
          StringEnum(['KEYS_ONLY', 'NEW_IMAGE', 'OLD_IMAGE', 'NEW_AND_OLD_IMAGES'] as const, {
            description:
              'what each stream record holds; required when streamEnabled. Changing it turns the stream off and on again (AWS cannot change it in place), which starts a new stream with a new ARN',
          }),
        ),
      },
      { description: 'the table stream (change data capture); unset leaves it as AWS has it' },
    ),
  ),
  pointInTimeRecovery: Type.Optional(
    Type.Object(
      { enabled: Type.Boolean({ description: 'true keeps continuous backups for restoring to any second of the last 35 days' }) },
      { description: 'point-in-time recovery; unset leaves it as AWS has it (off)' },
    ),
  ),
  timeToLive: Type.Optional(
    Type.Object(
      {
        enabled: Type.Boolean({ description: 'true expires items whose attributeName (epoch seconds) is in the past' }),
        attributeName: AttributeName,
      },
      {
        description:
          'time to live; unset leaves it as AWS has it. AWS allows about one change an hour, and a new attributeName turns TTL off and on again',
      },
    ),
  ),
  encryption: Type.Optional(
    Type.Object(
      {
        type: StringEnum(['AWS_OWNED', 'AWS_MANAGED', 'CUSTOMER_MANAGED'] as const, {
          description:
            'AWS_OWNED (a key DynamoDB owns, free, AWS default), AWS_MANAGED (the account key alias/aws/dynamodb in KMS) or CUSTOMER_MANAGED (kmsKeyID)',
        }),
        kmsKeyID: Type.Optional(
          Type.String({
            minLength: 1,
            maxLength: 2048,
            description: 'CUSTOMER_MANAGED only: KMS key ARN or key ID (an alias is accepted by AWS but cannot be compared, so give the ARN)',
          }),
        ),
      },
      { description: 'server-side encryption at rest; unset leaves it as AWS has it' },
    ),
  ),
  tableClass: Type.Optional(
    StringEnum(['STANDARD', 'STANDARD_INFREQUENT_ACCESS'] as const, {
      description: 'STANDARD or STANDARD_INFREQUENT_ACCESS (cheaper storage, dearer requests); unset leaves it as AWS has it (STANDARD)',
    }),
  ),
  deletionProtectionEnabled: Type.Optional(
    Type.Boolean({
      description:
        'true makes AWS refuse to delete the table; deleting this resource under deletionPolicy Delete then waits until it is set to false. Unset leaves it as AWS has it (off)',
    }),
  ),
  tags: Type.Optional(Tags),
  deletionPolicy: Type.Optional(DeletionPolicySchema),
  writeConnectionSecretToRef: Type.Optional(ConnectionSecretRef),
});
export type TableSpec = Static<typeof TableSpec>;

export const TableStatus = Type.Object({
  ...commonStatusProperties,
  tableName: Type.Optional(Type.String({ description: 'name of the table in DynamoDB' })),
  tableStatus: Type.Optional(Type.String({ description: 'CREATING, UPDATING, ACTIVE, DELETING, ARCHIVED…, as DynamoDB reports it' })),
  tableARN: Type.Optional(Type.String({ description: 'ARN of the table, e.g. arn:aws:dynamodb:us-east-1:123456789012:table/orders' })),
  streamARN: Type.Optional(Type.String({ description: 'ARN of the latest stream; empty while the stream is off' })),
  itemCount: Type.Optional(Type.Integer({ description: 'items in the table as DynamoDB last counted them (updated about every six hours)' })),
});
export type TableStatus = Static<typeof TableStatus>;

/** CEL: every global index has both capacities (`present`) or neither. */
const indexCapacities = (present: boolean) =>
  `!has(self.globalSecondaryIndexes) || self.globalSecondaryIndexes.all(i, ${present ? '' : '!'}has(i.readCapacityUnits) && ${present ? '' : '!'}has(i.writeCapacityUnits))`;

export const DynamoDBTableKind = defineKind({
  kind: 'DynamoDBTable',
  plural: 'dynamodbtables',
  singular: 'dynamodbtable',
  shortNames: ['ddb'],
  description: 'a DynamoDB table with its indexes, streams, backups, TTL and encryption',
  spec: TableSpec,
  status: TableStatus,
  specRules: [
    {
      rule: "(has(self.billingMode) && self.billingMode == 'PROVISIONED') == (has(self.readCapacityUnits) && has(self.writeCapacityUnits))",
      message: 'readCapacityUnits and writeCapacityUnits are required with billingMode PROVISIONED and refused otherwise',
    },
    {
      rule: "has(self.billingMode) && self.billingMode == 'PROVISIONED' || !(has(self.readCapacityUnits) || has(self.writeCapacityUnits))",
      message: 'readCapacityUnits and writeCapacityUnits apply to billingMode PROVISIONED only',
    },
    {
      rule: `has(self.billingMode) && self.billingMode == 'PROVISIONED' ? (${indexCapacities(true)}) : (${indexCapacities(false)})`,
      message:
        'with billingMode PROVISIONED every global secondary index needs readCapacityUnits and writeCapacityUnits; with PAY_PER_REQUEST none may have them',
      fieldPath: '.globalSecondaryIndexes',
    },
    {
      rule: '!has(self.localSecondaryIndexes) || has(self.rangeKey)',
      message: 'localSecondaryIndexes need a rangeKey on the table',
      fieldPath: '.localSecondaryIndexes',
    },
    {
      rule: '!has(self.streamSpecification) || self.streamSpecification.streamEnabled == has(self.streamSpecification.streamViewType)',
      message: 'streamSpecification.streamViewType is required when streamEnabled is true and refused when it is false',
      fieldPath: '.streamSpecification',
    },
    {
      rule: "!has(self.encryption) || (self.encryption.type == 'CUSTOMER_MANAGED') == has(self.encryption.kmsKeyID)",
      message: 'encryption.kmsKeyID is required with type CUSTOMER_MANAGED and refused with the other types',
      fieldPath: '.encryption',
    },
  ],
  printerColumns: [
    { name: 'Table', type: 'string', jsonPath: '.status.tableName' },
    readyColumn,
    phaseColumn,
    { name: 'Status', type: 'string', jsonPath: '.status.tableStatus', priority: 1 },
    { name: 'Items', type: 'integer', jsonPath: '.status.itemCount', priority: 1 },
    { name: 'ARN', type: 'string', jsonPath: '.status.tableARN', priority: 1 },
    reasonColumn,
    ageColumn,
  ],
  identityField: 'tableName',
  references: (spec, namespace) => [providerReference(spec, namespace)],
});
