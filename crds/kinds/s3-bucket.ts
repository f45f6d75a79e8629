import { Type, type Static } from '@sinclair/typebox';
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
  type ValidationRule,
} from '../schema.js';

/** Storage classes S3 needs objects to stay 30 days in STANDARD before moving to. */
const MIN_30_DAYS = ['STANDARD_IA', 'ONEZONE_IA'] as const;

const StorageClass = StringEnum(
  ['STANDARD_IA', 'ONEZONE_IA', 'INTELLIGENT_TIERING', 'GLACIER', 'GLACIER_IR', 'DEEP_ARCHIVE'] as const,
  {
    description:
      'storage class to move objects to: STANDARD_IA or ONEZONE_IA (infrequent access, from 30 days), INTELLIGENT_TIERING, GLACIER_IR (instant retrieval), GLACIER (flexible retrieval) or DEEP_ARCHIVE',
  },
);

export const Transition = withRules(
  Type.Object(
    {
      days: Type.Integer({ minimum: 0, description: "days after an object's creation when it moves; at least 30 for STANDARD_IA and ONEZONE_IA" }),
      storageClass: StorageClass,
    },
    { description: 'a move of objects to another storage class' },
  ),
  [
    {
      rule: `!(self.storageClass in [${MIN_30_DAYS.map((c) => `'${c}'`).join(', ')}]) || self.days >= 30`,
      message: `days must be at least 30 for a transition to ${MIN_30_DAYS.join(' or ')}: S3 keeps objects 30 days before moving them there`,
      messageExpression: `'a transition to ' + self.storageClass + ' needs days of at least 30: S3 keeps objects 30 days before moving them to ${MIN_30_DAYS.join(' or ')}'`,
      fieldPath: '.days',
    },
  ],
);

export const LifecycleRule = withRules(
  Type.Object({
    id: Type.String({ minLength: 1, maxLength: 255, description: 'name of the rule, unique in the bucket; up to 255 characters' }),
    enabled: Type.Boolean({ default: true, description: 'false keeps the rule in the bucket but suspends it; default true' }),
    prefix: Type.Optional(
      Type.String({ maxLength: 1024, description: 'object key prefix the rule applies to, e.g. logs/; unset: every object in the bucket' }),
    ),
    transitions: Type.Optional(
      Type.Array(Transition, {
        maxItems: 10,
        description: "moves of objects to cheaper storage classes as they age; each before the rule's expiration",
      }),
    ),
    expiration: Type.Optional(
      Type.Object(
        {
          days: Type.Integer({
            minimum: 1,
            description: "days after an object's creation when it expires; later than every transition of the rule",
          }),
        },
        { description: 'when current objects expire: deleted, or behind a delete marker in a versioned bucket' },
      ),
    ),
    noncurrentVersionExpiration: Type.Optional(
      Type.Object(
        { noncurrentDays: Type.Integer({ minimum: 1, description: 'days after a version stops being current when it is deleted' }) },
        { description: 'when noncurrent versions (versioned buckets) are deleted' },
      ),
    ),
    abortIncompleteMultipartUpload: Type.Optional(
      Type.Object(
        {
          daysAfterInitiation: Type.Integer({
            minimum: 1,
            description: 'days after an upload started when an unfinished one is aborted and its parts deleted',
          }),
        },
        { description: 'clean-up of multipart uploads that never completed' },
      ),
    ),
  }),
  [
    {
      rule: '!has(self.expiration) || !has(self.transitions) || self.transitions.all(t, t.days < self.expiration.days)',
      message: 'transitions must come before expiration: every transitions[].days must be less than expiration.days',
      fieldPath: '.transitions',
    },
  ],
);
export type LifecycleRule = Static<typeof LifecycleRule>;

export const CorsRule = Type.Object({
  id: Type.Optional(Type.String({ maxLength: 255, description: 'name of the rule; up to 255 characters' })),
  allowedOrigins: Type.Array(Type.String(), {
    minItems: 1,
    description: 'origins allowed to make cross-origin requests, e.g. https://app.example.com; * for any',
  }),
  allowedMethods: Type.Array(StringEnum(['GET', 'PUT', 'POST', 'DELETE', 'HEAD'] as const), {
    minItems: 1,
    description: 'HTTP methods allowed: GET, PUT, POST, DELETE, HEAD',
  }),
  allowedHeaders: Type.Optional(
    Type.Array(Type.String(), { description: 'request headers a preflight may ask for (Access-Control-Request-Headers); * for any' }),
  ),
  exposeHeaders: Type.Optional(Type.Array(Type.String(), { description: 'response headers browser scripts may read' })),
  maxAgeSeconds: Type.Optional(
    Type.Integer({ minimum: 0, description: 'seconds a browser may cache the preflight answer; unset: the browser decides' }),
  ),
});
export type CorsRule = Static<typeof CorsRule>;

/** AWS's bucket naming rules that a pattern cannot say, as CEL (general purpose buckets). */
const BUCKET_NAME_RULES: ValidationRule[] = [
  { rule: "!self.contains('..')", message: 'bucketName may not contain two adjacent periods (..)' },
  { rule: "!self.matches('^[0-9]+([.][0-9]+){3}$')", message: 'bucketName may not be formatted as an IP address, e.g. 192.168.5.4' },
  ...['xn--', 'sthree-', 'amzn-s3-demo-'].map((prefix) => ({
    rule: `!self.startsWith('${prefix}')`,
    message: `bucketName may not start with ${prefix}, which AWS reserves`,
  })),
  ...['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3'].map((suffix) => ({
    rule: `!self.endsWith('${suffix}')`,
    message: `bucketName may not end with ${suffix}, which AWS reserves`,
  })),
];

export const BucketSpec = Type.Object({
  providerRef: ProviderRef,
  bucketName: immutable(
    withRules(
      Type.String({
        minLength: 3,
        maxLength: 63,
        pattern: '^[a-z0-9][a-z0-9.-]*[a-z0-9]$',
        description:
          'globally unique bucket name: 3-63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit; no "..", not an IP address, none of the prefixes xn--, sthree-, amzn-s3-demo- or suffixes -s3alias, --ol-s3, .mrap, --x-s3, --table-s3. Fixed at creation',
      }),
      BUCKET_NAME_RULES,
    ),
    'bucketName',
  ),
  versioning: Type.Optional(
    Type.Object(
      {
        enabled: Type.Boolean({
          description: 'true: versioning Enabled; false: Suspended (a bucket that was never versioned stays unversioned)',
        }),
      },
      { description: 'object versioning; unset leaves it as AWS has it' },
    ),
  ),
  encryption: Type.Optional(
    Type.Object(
      {
        algorithm: StringEnum(['AES256', 'aws:kms', 'aws_kms'] as const, {
          description: 'AES256 (SSE-S3) or aws:kms (aws_kms is accepted for the earlier operator)',
        }),
        kmsKeyID: Type.Optional(
          Type.String({ minLength: 1, description: 'KMS key ID, ARN or alias for aws:kms; unset: the AWS-managed key aws/s3' }),
        ),
        bucketKeyEnabled: Type.Optional(
          Type.Boolean({ description: 'use an S3 Bucket Key with aws:kms, cutting KMS requests; unset leaves it as AWS has it' }),
        ),
      },
      { description: 'default encryption of new objects; unset leaves it as AWS has it (SSE-S3 for every new bucket)' },
    ),
  ),
  publicAccessBlock: Type.Optional(
    Type.Object(
      {
        blockPublicAcls: Type.Optional(
          Type.Boolean({ description: 'refuse requests that add a public ACL; unset leaves it as AWS has it' }),
        ),
        ignorePublicAcls: Type.Optional(
          Type.Boolean({ description: 'ignore public ACLs already on the bucket and its objects; unset leaves it as AWS has it' }),
        ),
        blockPublicPolicy: Type.Optional(
          Type.Boolean({ description: 'refuse a bucket policy that grants public access; unset leaves it as AWS has it' }),
        ),
        restrictPublicBuckets: Type.Optional(
          Type.Boolean({
            description: 'with a public policy, allow only AWS services and this account; unset leaves it as AWS has it',
          }),
        ),
      },
      { description: "the bucket's public access block; unset leaves it as AWS has it (all four on for every new bucket)" },
    ),
  ),
  lifecycleRules: Type.Optional(
    Type.Array(LifecycleRule, {
      maxItems: 1000,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['id'],
      description:
        'lifecycle rules, each id once, at most 1000; unset leaves lifecycle unmanaged, set (even empty) makes it exactly these rules',
    }),
  ),
  corsRules: Type.Optional(
    Type.Array(CorsRule, {
      maxItems: 100,
      description: 'CORS rules, at most 100; unset leaves CORS unmanaged, set (even empty) makes it exactly these rules',
    }),
  ),
  tags: Type.Optional(Tags),
  writeConnectionSecretToRef: Type.Optional(ConnectionSecretRef),
  deletionPolicy: Type.Optional(DeletionPolicySchema),
  forceDestroy: Type.Optional(
    Type.Boolean({
      description:
        'with deletionPolicy Delete, empty the bucket (every object, version and upload) before deleting it; unset or false: a bucket that holds anything is never emptied, and its deletion waits (reason BucketNotEmpty) until it is empty or this changes',
    }),
  ),
});
export type BucketSpec = Static<typeof BucketSpec>;

export const BucketStatus = Type.Object({
  ...commonStatusProperties,
  bucketName: Type.Optional(Type.String({ description: 'name of the bucket in S3' })),
  region: Type.Optional(Type.String({ description: 'region the bucket is in, e.g. us-east-1' })),
  arn: Type.Optional(Type.String({ description: 'ARN of the bucket, e.g. arn:aws:s3:::my-bucket' })),
  bucketDomainName: Type.Optional(Type.String({ description: 'DNS name for requests to the bucket, e.g. my-bucket.s3.amazonaws.com' })),
});
export type BucketStatus = Static<typeof BucketStatus>;

export const S3BucketKind = defineKind({
  kind: 'S3Bucket',
  plural: 's3buckets',
  singular: 's3bucket',
  shortNames: ['s3b'],
  description: 'an S3 bucket with versioning, encryption, public access block, lifecycle and CORS',
  spec: BucketSpec,
  status: BucketStatus,
  specRules: [
    {
      rule: "!has(self.encryption) || !has(self.encryption.kmsKeyID) || self.encryption.algorithm != 'AES256'",
      message: 'encryption.kmsKeyID needs encryption.algorithm aws:kms',
    },
  ],
  printerColumns: [
    { name: 'Bucket', type: 'string', jsonPath: '.status.bucketName' },
    readyColumn,
    phaseColumn,
    { name: 'ARN', type: 'string', jsonPath: '.status.arn', priority: 1 },
    { name: 'Region', type: 'string', jsonPath: '.status.region', priority: 1 },
    reasonColumn,
    ageColumn,
  ],
  identityField: 'bucketName',
  references: (spec, namespace) => [providerReference(spec, namespace)],
});
