import { Type, type Static } from '@sinclair/typebox';
import { ageColumn, defineKind, phaseColumn, providerReference, readyColumn, reasonColumn } from '../kind.js';
import { DeletionPolicySchema, ProviderRef, StringEnum, Tags, commonStatusProperties, immutable } from '../schema.js';

const StorageClass = StringEnum([
  'STANDARD_IA',
  'ONEZONE_IA',
  'INTELLIGENT_TIERING',
  'GLACIER',
  'GLACIER_IR',
  'DEEP_ARCHIVE',
] as const);

export const LifecycleRule = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 255 }),
  enabled: Type.Boolean({ default: true }),
  prefix: Type.Optional(Type.String()),
  transitions: Type.Optional(
    Type.Array(Type.Object({ days: Type.Integer({ minimum: 0 }), storageClass: StorageClass })),
  ),
  expiration: Type.Optional(Type.Object({ days: Type.Integer({ minimum: 1 }) })),
  noncurrentVersionExpiration: Type.Optional(Type.Object({ noncurrentDays: Type.Integer({ minimum: 1 }) })),
  abortIncompleteMultipartUpload: Type.Optional(Type.Object({ daysAfterInitiation: Type.Integer({ minimum: 1 }) })),
});
export type LifecycleRule = Static<typeof LifecycleRule>;

export const CorsRule = Type.Object({
  id: Type.Optional(Type.String()),
  allowedOrigins: Type.Array(Type.String(), { minItems: 1 }),
  allowedMethods: Type.Array(StringEnum(['GET', 'PUT', 'POST', 'DELETE', 'HEAD'] as const), { minItems: 1 }),
  allowedHeaders: Type.Optional(Type.Array(Type.String())),
  exposeHeaders: Type.Optional(Type.Array(Type.String())),
  maxAgeSeconds: Type.Optional(Type.Integer({ minimum: 0 })),
});
export type CorsRule = Static<typeof CorsRule>;

export const BucketSpec = Type.Object({
  providerRef: ProviderRef,
  bucketName: immutable(
    Type.String({
      minLength: 3,
      maxLength: 63,
      pattern: '^[a-z0-9][a-z0-9.-]*[a-z0-9]$',
      description: 'globally unique bucket name: 3-63 lowercase letters, digits, dots and hyphens',
    }),
    'bucketName',
  ),
  versioning: Type.Optional(Type.Object({ enabled: Type.Boolean() })),
  encryption: Type.Optional(
    Type.Object({
      algorithm: StringEnum(['AES256', 'aws:kms', 'aws_kms'] as const, {
        description: 'AES256 (SSE-S3) or aws:kms (aws_kms is accepted for the earlier operator)',
      }),
      kmsKeyID: Type.Optional(Type.String({ minLength: 1 })),
      bucketKeyEnabled: Type.Optional(Type.Boolean()),
    }),
  ),
  publicAccessBlock: Type.Optional(
    Type.Object({
      blockPublicAcls: Type.Optional(Type.Boolean()),
      ignorePublicAcls: Type.Optional(Type.Boolean()),
      blockPublicPolicy: Type.Optional(Type.Boolean()),
      restrictPublicBuckets: Type.Optional(Type.Boolean()),
    }),
  ),
  lifecycleRules: Type.Optional(Type.Array(LifecycleRule)),
  corsRules: Type.Optional(Type.Array(CorsRule)),
  tags: Type.Optional(Tags),
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
  bucketName: Type.Optional(Type.String()),
  region: Type.Optional(Type.String()),
  arn: Type.Optional(Type.String()),
  bucketDomainName: Type.Optional(Type.String()),
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
  references: (spec, namespace) => [providerReference(spec, namespace)],
});
