/**
 * S3Bucket: one S3 bucket with its versioning, default encryption, public
 * access block, lifecycle rules, CORS rules and tags.
 *
 * Each of those is a "section": S3 reads and writes it as a whole (there is
 * no partial put), so the handler compares and fixes section by section.
 * A section the spec leaves unset is not managed and never read; tags are
 * always managed, because the operator owns the full tag set.
 */
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteBucketCorsCommand,
  DeleteBucketLifecycleCommand,
  DeleteBucketTaggingCommand,
  DeleteObjectsCommand,
  GetBucketCorsCommand,
  GetBucketEncryptionCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketLocationCommand,
  GetBucketTaggingCommand,
  GetBucketVersioningCommand,
  GetPublicAccessBlockCommand,
  HeadBucketCommand,
  ListMultipartUploadsCommand,
  ListObjectVersionsCommand,
  ListObjectsV2Command,
  PutBucketCorsCommand,
  PutBucketEncryptionCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketTaggingCommand,
  PutBucketVersioningCommand,
  PutPublicAccessBlockCommand,
  S3Client,
  type BucketLocationConstraint,
  type CORSRule,
  type LifecycleRule as S3LifecycleRule,
  type ObjectIdentifier,
  type PublicAccessBlockConfiguration,
  type ServerSideEncryption,
  type ServerSideEncryptionConfiguration,
} from '@aws-sdk/client-s3';
import type { BucketSpec, CorsRule, LifecycleRule } from '../../../crds/kinds/s3-bucket.js';
import { errorName, isNotFound, type ErrorCodes, unlessNotFound } from '../errors.js';
import { absent, present, type AwsContext, type Observation, type ResourceHandler } from '../handler.js';
import { assertNotOwnedByAnother, compareTags, ownership } from '../tags.js';

/** Error name of a deletion that would destroy data the spec did not say to destroy. */
export const BUCKET_NOT_EMPTY = 'BucketNotEmpty';

const ERROR_CODES: ErrorCodes = {
  // The name is taken by another account, or the bucket is someone else's:
  // only a new bucketName can help.
  // BucketNotEmpty: the bucket holds data and forceDestroy is not set; only
  // the user can change that (empty it, set forceDestroy, or keep it).
  terminal: ['BucketAlreadyExists', BUCKET_NOT_EMPTY],
  // "This section is not configured" answers, read as "none" by observe.
  notFound: [
    'ServerSideEncryptionConfigurationNotFoundError',
    'NoSuchPublicAccessBlockConfiguration',
    'NoSuchLifecycleConfiguration',
    'NoSuchCORSConfiguration',
    'NoSuchTagSet',
    'NoSuchUpload',
  ],
};

/** The bucket's parts that are compared and written as a whole. */
export type Section = 'versioning' | 'encryption' | 'publicAccessBlock' | 'lifecycleRules' | 'corsRules' | 'tags';

/** One section that differs; reads as `versioning: Suspended -> Enabled`. */
export interface Difference {
  section: Section;
  detail: string;
}

/** Default encryption as compared: the spec's fields with AWS's values. */
export interface EncryptionState {
  algorithm: string;
  kmsKeyID?: string;
  bucketKeyEnabled: boolean;
}

export type PublicAccessBlock = Required<NonNullable<BucketSpec['publicAccessBlock']>>;

/**
 * What AWS has for one bucket, in the spec's shapes. A section is undefined
 * when the spec does not manage it (so it was not read).
 */
export interface ObservedBucket {
  region: string;
  tags: Record<string, string>;
  /** `Unversioned`: versioning was never enabled, a state S3 cannot return to. */
  versioning?: 'Enabled' | 'Suspended' | 'Unversioned';
  /** null: no default encryption configured. */
  encryption?: EncryptionState | null;
  /** No configuration reads as all four flags false. */
  publicAccessBlock?: PublicAccessBlock;
  /** No configuration reads as no rules. */
  lifecycleRules?: LifecycleRule[];
  corsRules?: CorsRule[];
}

type StorageClass = NonNullable<LifecycleRule['transitions']>[number]['storageClass'];

// ---------------------------------------------------------------------------
// Mapping: spec <-> AWS shapes. Pure.

/** `aws_kms` is the earlier operator's spelling of `aws:kms`. */
export function encryptionAlgorithm(algorithm: NonNullable<BucketSpec['encryption']>['algorithm']): string {
  return algorithm === 'aws_kms' ? 'aws:kms' : algorithm;
}

/** Default encryption as PutBucketEncryption takes it. */
export function encryptionConfiguration(encryption: NonNullable<BucketSpec['encryption']>): ServerSideEncryptionConfiguration {
  const algorithm = encryptionAlgorithm(encryption.algorithm);
  return {
    Rules: [
      {
        ApplyServerSideEncryptionByDefault: {
          SSEAlgorithm: algorithm as ServerSideEncryption,
          ...(encryption.kmsKeyID !== undefined && algorithm !== 'AES256' ? { KMSMasterKeyID: encryption.kmsKeyID } : {}),
        },
        ...(encryption.bucketKeyEnabled !== undefined ? { BucketKeyEnabled: encryption.bucketKeyEnabled } : {}),
      },
    ],
  };
}

/**
 * The full public access block to write: the flags the spec sets, and AWS's
 * current value for the others, because a put replaces all four and an
 * omitted flag would silently become false.
 */
export function publicAccessBlockConfiguration(
  desired: NonNullable<BucketSpec['publicAccessBlock']>,
  observed: PublicAccessBlock,
): PublicAccessBlockConfiguration {
  const merged = { ...observed, ...definedOnly(desired) };
  return {
    BlockPublicAcls: merged.blockPublicAcls,
    IgnorePublicAcls: merged.ignorePublicAcls,
    BlockPublicPolicy: merged.blockPublicPolicy,
    RestrictPublicBuckets: merged.restrictPublicBuckets,
  };
}

/** A spec lifecycle rule as S3 takes it. An unset prefix applies the rule to the whole bucket. */
export function lifecycleRuleToAws(rule: LifecycleRule): S3LifecycleRule {
  return {
    ID: rule.id,
    // The schema defaults `enabled` to true; a spec that skipped defaulting still means enabled.
    Status: rule.enabled === false ? 'Disabled' : 'Enabled',
    Filter: { Prefix: rule.prefix ?? '' },
    ...(rule.transitions?.length
      ? { Transitions: rule.transitions.map((t) => ({ Days: t.days, StorageClass: t.storageClass })) }
      : {}),
    ...(rule.expiration ? { Expiration: { Days: rule.expiration.days } } : {}),
    ...(rule.noncurrentVersionExpiration
      ? { NoncurrentVersionExpiration: { NoncurrentDays: rule.noncurrentVersionExpiration.noncurrentDays } }
      : {}),
    ...(rule.abortIncompleteMultipartUpload
      ? { AbortIncompleteMultipartUpload: { DaysAfterInitiation: rule.abortIncompleteMultipartUpload.daysAfterInitiation } }
      : {}),
  };
}

/** An S3 lifecycle rule in the spec's shape, for comparison. Fields the spec cannot express are dropped. */
export function lifecycleRuleFromAws(rule: S3LifecycleRule): LifecycleRule {
  const transitions = (rule.Transitions ?? []).map((t) => ({ days: t.Days ?? 0, storageClass: t.StorageClass as StorageClass }));
  return {
    id: rule.ID ?? '',
    enabled: rule.Status === 'Enabled',
    // `Prefix` at the top level is the deprecated form older rules still carry.
    prefix: rule.Filter?.Prefix ?? rule.Filter?.And?.Prefix ?? rule.Prefix ?? '',
    ...(transitions.length ? { transitions } : {}),
    ...(rule.Expiration?.Days !== undefined ? { expiration: { days: rule.Expiration.Days } } : {}),
    ...(rule.NoncurrentVersionExpiration?.NoncurrentDays !== undefined
      ? { noncurrentVersionExpiration: { noncurrentDays: rule.NoncurrentVersionExpiration.NoncurrentDays } }
      : {}),
    ...(rule.AbortIncompleteMultipartUpload?.DaysAfterInitiation !== undefined
      ? { abortIncompleteMultipartUpload: { daysAfterInitiation: rule.AbortIncompleteMultipartUpload.DaysAfterInitiation } }
      : {}),
  };
}

/** A spec CORS rule as S3 takes it. */
export function corsRuleToAws(rule: CorsRule): CORSRule {
  return {
    ...(rule.id !== undefined ? { ID: rule.id } : {}),
    AllowedOrigins: rule.allowedOrigins,
    AllowedMethods: rule.allowedMethods,
    ...(rule.allowedHeaders?.length ? { AllowedHeaders: rule.allowedHeaders } : {}),
    ...(rule.exposeHeaders?.length ? { ExposeHeaders: rule.exposeHeaders } : {}),
    ...(rule.maxAgeSeconds !== undefined ? { MaxAgeSeconds: rule.maxAgeSeconds } : {}),
  };
}

/** An S3 CORS rule in the spec's shape, for comparison. */
export function corsRuleFromAws(rule: CORSRule): CorsRule {
  return {
    ...(rule.ID !== undefined ? { id: rule.ID } : {}),
    allowedOrigins: rule.AllowedOrigins ?? [],
    allowedMethods: (rule.AllowedMethods ?? []) as CorsRule['allowedMethods'],
    ...(rule.AllowedHeaders?.length ? { allowedHeaders: rule.AllowedHeaders } : {}),
    ...(rule.ExposeHeaders?.length ? { exposeHeaders: rule.ExposeHeaders } : {}),
    ...(rule.MaxAgeSeconds !== undefined ? { maxAgeSeconds: rule.MaxAgeSeconds } : {}),
  };
}

/** GetBucketLocation's answer as a region: empty means us-east-1, `EU` is the old name of eu-west-1. */
export function regionFromLocation(location: string | undefined | null): string {
  if (!location) return 'us-east-1';
  return location === 'EU' ? 'eu-west-1' : location;
}

/** The status fields of a bucket. */
export function bucketStatus(bucketName: string, region: string): Observation['status'] {
  return {
    bucketName,
    region,
    arn: `arn:aws:s3:::${bucketName}`,
    bucketDomainName: region === 'us-east-1' ? `${bucketName}.s3.amazonaws.com` : `${bucketName}.s3.${region}.amazonaws.com`,
  };
}

// ---------------------------------------------------------------------------
// Comparison: desired vs observed, section by section. Pure.

/** Every section where AWS differs from the spec, in the order update writes them. */
export function compareBucket(desired: BucketSpec, observed: ObservedBucket, desiredTags: Record<string, string>): Difference[] {
  const details: Array<[Section, string | undefined]> = [
    // Tags first: they are what makes a half-configured bucket findable.
    ['tags', compareTags(desiredTags, observed.tags)],
    ['versioning', desired.versioning && compareVersioning(desired.versioning.enabled, observed.versioning)],
    ['encryption', desired.encryption && compareEncryption(desired.encryption, observed.encryption ?? null)],
    ['publicAccessBlock', desired.publicAccessBlock && comparePublicAccessBlock(desired.publicAccessBlock, observed.publicAccessBlock)],
    ['lifecycleRules', desired.lifecycleRules && compareLifecycleRules(desired.lifecycleRules, observed.lifecycleRules ?? [])],
    ['corsRules', desired.corsRules && compareCorsRules(desired.corsRules, observed.corsRules ?? [])],
  ];
  return details.flatMap(([section, detail]) => (detail ? [{ section, detail }] : []));
}

/** Readable form of a difference, as it appears in conditions and events. */
export function formatDifference(difference: Difference): string {
  return `${difference.section}: ${difference.detail}`;
}

/**
 * `enabled: false` on a bucket that was never versioned is in sync: S3 has
 * no way back to "unversioned", only to Suspended, and suspending a bucket
 * that never had versions would change nothing.
 */
export function compareVersioning(enabled: boolean, observed: ObservedBucket['versioning']): string | undefined {
  const current = observed ?? 'Unversioned';
  const wanted = enabled ? 'Enabled' : 'Suspended';
  if (current === wanted || (!enabled && current === 'Unversioned')) return undefined;
  return `${current} -> ${wanted}`;
}

/** Compares the algorithm, and the key and bucket-key setting when the spec sets them. */
export function compareEncryption(desired: NonNullable<BucketSpec['encryption']>, observed: EncryptionState | null): string | undefined {
  const wanted = {
    algorithm: encryptionAlgorithm(desired.algorithm),
    kmsKeyID: desired.kmsKeyID,
    bucketKeyEnabled: desired.bucketKeyEnabled,
  };
  if (!observed) return `none -> ${describeEncryption(wanted)}`;
  const current = {
    algorithm: observed.algorithm,
    kmsKeyID: desired.kmsKeyID !== undefined ? observed.kmsKeyID : undefined,
    bucketKeyEnabled: desired.bucketKeyEnabled !== undefined ? observed.bucketKeyEnabled : undefined,
  };
  const same =
    current.algorithm === wanted.algorithm &&
    current.kmsKeyID === wanted.kmsKeyID &&
    current.bucketKeyEnabled === wanted.bucketKeyEnabled;
  return same ? undefined : `${describeEncryption(current)} -> ${describeEncryption(wanted)}`;
}

function describeEncryption(state: { algorithm: string; kmsKeyID?: string | undefined; bucketKeyEnabled?: boolean | undefined }): string {
  const parts = [
    state.kmsKeyID !== undefined ? `key ${state.kmsKeyID || 'none'}` : undefined,
    state.bucketKeyEnabled !== undefined ? `bucket key ${state.bucketKeyEnabled ? 'on' : 'off'}` : undefined,
  ].filter((part) => part !== undefined);
  return parts.length ? `${state.algorithm} (${parts.join(', ')})` : state.algorithm;
}

/** Compares the flags the spec sets; a bucket without the configuration has all four false. */
export function comparePublicAccessBlock(
  desired: NonNullable<BucketSpec['publicAccessBlock']>,
  observed: PublicAccessBlock = NO_PUBLIC_ACCESS_BLOCK,
): string | undefined {
  const changes = Object.entries(definedOnly(desired))
    .filter(([flag, value]) => observed[flag as keyof PublicAccessBlock] !== value)
    .map(([flag, value]) => `${flag} ${String(observed[flag as keyof PublicAccessBlock])} -> ${String(value)}`);
  return changes.length ? changes.join(', ') : undefined;
}

/** Compares rules by id (their order does not matter to S3): `+added, -removed, ~changed`. */
export function compareLifecycleRules(desired: LifecycleRule[], observed: LifecycleRule[]): string | undefined {
  return describeKeyedChanges(
    new Map(desired.map((rule) => [rule.id, canonicalLifecycleRule(rule)])),
    new Map(observed.map((rule) => [rule.id, canonicalLifecycleRule(rule)])),
  );
}

/** Compares rules by position (S3 applies the first that matches); a rule is named by its id or `#n`. */
export function compareCorsRules(desired: CorsRule[], observed: CorsRule[]): string | undefined {
  const changes: string[] = [];
  for (let i = 0; i < Math.max(desired.length, observed.length); i++) {
    const wanted = desired[i];
    const current = observed[i];
    const label = (wanted ?? current)?.id ?? `#${i + 1}`;
    if (!current) changes.push(`+${label}`);
    else if (!wanted) changes.push(`-${label}`);
    else if (canonicalCorsRule(wanted) !== canonicalCorsRule(current)) changes.push(`~${label}`);
  }
  return changes.length ? changes.join(', ') : undefined;
}


function describeKeyedChanges(desired: Map<string, string>, observed: Map<string, string>): string | undefined {
  const keys = (map: Map<string, string>, keep: (key: string) => boolean) => [...map.keys()].filter(keep).sort();
  const changes = [
    ...keys(desired, (key) => !observed.has(key)).map((key) => `+${key}`),
    ...keys(observed, (key) => !desired.has(key)).map((key) => `-${key}`),
    ...keys(desired, (key) => observed.has(key) && observed.get(key) !== desired.get(key)).map((key) => `~${key}`),
  ];
  return changes.length ? changes.join(', ') : undefined;
}

/** A rule as a string in which equal rules are equal: defaults filled in, fields in a fixed order. */
function canonicalLifecycleRule(rule: LifecycleRule): string {
  return JSON.stringify([
    rule.enabled !== false,
    rule.prefix ?? '',
    [...(rule.transitions ?? [])].sort((a, b) => a.days - b.days).map((t) => [t.days, t.storageClass]),
    rule.expiration?.days ?? null,
    rule.noncurrentVersionExpiration?.noncurrentDays ?? null,
    rule.abortIncompleteMultipartUpload?.daysAfterInitiation ?? null,
  ]);
}

function canonicalCorsRule(rule: CorsRule): string {
  return JSON.stringify([
    rule.id ?? null,
    rule.allowedOrigins,
    rule.allowedMethods,
    rule.allowedHeaders ?? [],
    rule.exposeHeaders ?? [],
    rule.maxAgeSeconds ?? null,
  ]);
}

const NO_PUBLIC_ACCESS_BLOCK: PublicAccessBlock = {
  blockPublicAcls: false,
  ignorePublicAcls: false,
  blockPublicPolicy: false,
  restrictPublicBuckets: false,
};

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

// ---------------------------------------------------------------------------
// AWS calls.

/** Reads the region, the tags and every section the spec manages. Throws NoSuchBucket when the bucket is gone. */
async function readBucket(s3: S3Client, desired: BucketSpec): Promise<ObservedBucket> {
  const Bucket = desired.bucketName;
  const [location, tagging, versioning, encryption, publicAccessBlock, lifecycle, cors] = await Promise.all([
    s3.send(new GetBucketLocationCommand({ Bucket })),
    unlessNotFound(s3.send(new GetBucketTaggingCommand({ Bucket })), ERROR_CODES),
    desired.versioning ? s3.send(new GetBucketVersioningCommand({ Bucket })) : undefined,
    desired.encryption ? unlessNotFound(s3.send(new GetBucketEncryptionCommand({ Bucket })), ERROR_CODES) : undefined,
    desired.publicAccessBlock ? readPublicAccessBlock(s3, Bucket) : undefined,
    desired.lifecycleRules ? unlessNotFound(s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket })), ERROR_CODES) : undefined,
    desired.corsRules ? unlessNotFound(s3.send(new GetBucketCorsCommand({ Bucket })), ERROR_CODES) : undefined,
  ]);
  const observed: ObservedBucket = {
    region: regionFromLocation(location.LocationConstraint),
    tags: Object.fromEntries((tagging?.TagSet ?? []).map((tag) => [tag.Key ?? '', tag.Value ?? ''])),
  };
  if (desired.versioning) observed.versioning = versioning?.Status ?? 'Unversioned';
  if (desired.encryption) {
    const rule = encryption?.ServerSideEncryptionConfiguration?.Rules?.[0];
    const byDefault = rule?.ApplyServerSideEncryptionByDefault;
    observed.encryption = byDefault?.SSEAlgorithm
      ? {
          algorithm: byDefault.SSEAlgorithm,
          ...(byDefault.KMSMasterKeyID ? { kmsKeyID: byDefault.KMSMasterKeyID } : {}),
          bucketKeyEnabled: rule?.BucketKeyEnabled ?? false,
        }
      : null;
  }
  if (publicAccessBlock) observed.publicAccessBlock = publicAccessBlock;
  if (desired.lifecycleRules) observed.lifecycleRules = (lifecycle?.Rules ?? []).map(lifecycleRuleFromAws);
  if (desired.corsRules) observed.corsRules = (cors?.CORSRules ?? []).map(corsRuleFromAws);
  return observed;
}

/** The bucket's public access flags; no configuration reads as all four false. */
async function readPublicAccessBlock(s3: S3Client, Bucket: string): Promise<PublicAccessBlock> {
  const answer = await unlessNotFound(s3.send(new GetPublicAccessBlockCommand({ Bucket })), ERROR_CODES);
  const config = answer?.PublicAccessBlockConfiguration ?? {};
  return {
    blockPublicAcls: config.BlockPublicAcls ?? false,
    ignorePublicAcls: config.IgnorePublicAcls ?? false,
    blockPublicPolicy: config.BlockPublicPolicy ?? false,
    restrictPublicBuckets: config.RestrictPublicBuckets ?? false,
  };
}

async function writeTags(s3: S3Client, Bucket: string, tags: Record<string, string>): Promise<void> {
  const TagSet = Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
  if (TagSet.length === 0) await s3.send(new DeleteBucketTaggingCommand({ Bucket }));
  else await s3.send(new PutBucketTaggingCommand({ Bucket, Tagging: { TagSet } }));
}

/**
 * Reads the bucket and writes every section that differs, and only those.
 * Create and update both end here. It reads again rather than trusting the
 * observation it was given: that holds readable differences, not the values
 * a correct write needs (the public access flags the spec leaves alone), and
 * an activity retry may hand it an old one.
 */
async function reconcileSections(context: AwsContext, s3: S3Client, desired: BucketSpec): Promise<void> {
  const observed = await readBucket(s3, desired);
  await writeSections(context, s3, desired, observed);
}

/** Writes every section where `observed` differs from the spec, in compareBucket's order. */
async function writeSections(context: AwsContext, s3: S3Client, desired: BucketSpec, observed: ObservedBucket): Promise<void> {
  const Bucket = desired.bucketName;
  for (const { section } of compareBucket(desired, observed, context.tags)) {
    switch (section) {
      case 'tags':
        await writeTags(s3, Bucket, context.tags);
        break;
      case 'versioning':
        await s3.send(
          new PutBucketVersioningCommand({
            Bucket,
            VersioningConfiguration: { Status: desired.versioning?.enabled ? 'Enabled' : 'Suspended' },
          }),
        );
        break;
      case 'encryption':
        if (desired.encryption) {
          const ServerSideEncryptionConfiguration = encryptionConfiguration(desired.encryption);
          await s3.send(new PutBucketEncryptionCommand({ Bucket, ServerSideEncryptionConfiguration }));
        }
        break;
      case 'publicAccessBlock':
        if (desired.publicAccessBlock) {
          const config = publicAccessBlockConfiguration(desired.publicAccessBlock, observed.publicAccessBlock ?? NO_PUBLIC_ACCESS_BLOCK);
          await s3.send(new PutPublicAccessBlockCommand({ Bucket, PublicAccessBlockConfiguration: config }));
        }
        break;
      case 'lifecycleRules':
        // An empty list is how the spec says "no lifecycle configuration".
        if (desired.lifecycleRules?.length) {
          const Rules = desired.lifecycleRules.map(lifecycleRuleToAws);
          await s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket, LifecycleConfiguration: { Rules } }));
        } else {
          await s3.send(new DeleteBucketLifecycleCommand({ Bucket }));
        }
        break;
      case 'corsRules':
        if (desired.corsRules?.length) {
          const CORSRules = desired.corsRules.map(corsRuleToAws);
          await s3.send(new PutBucketCorsCommand({ Bucket, CORSConfiguration: { CORSRules } }));
        } else {
          await s3.send(new DeleteBucketCorsCommand({ Bucket }));
        }
        break;
    }
  }
}

/** Deletes objects (or versions) in batches of at most 1000, the most DeleteObjects takes. */
async function deleteObjects(context: AwsContext, s3: S3Client, Bucket: string, objects: ObjectIdentifier[]): Promise<void> {
  for (let start = 0; start < objects.length; start += 1000) {
    const Objects = objects.slice(start, start + 1000);
    const result = await s3.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects, Quiet: true } }));
    const failed = result.Errors ?? [];
    if (failed.length) {
      // DeleteObjects answers 200 with per-key errors. Surface the first under
      // its AWS code so errors.ts classifies it like any other AWS error.
      const first = failed[0];
      throw Object.assign(new Error(`could not delete ${failed.length} objects from ${Bucket}, e.g. ${first?.Key}: ${first?.Message}`), {
        name: first?.Code ?? 'DeleteObjectsFailed',
      });
    }
    context.heartbeat();
  }
}

/** Removes every object version, delete marker, object and pending multipart upload. */
async function emptyBucket(context: AwsContext, s3: S3Client, Bucket: string): Promise<void> {
  await deleteAllVersions(context, s3, Bucket);
  await deleteRemainingObjects(context, s3, Bucket);
  await abortMultipartUploads(context, s3, Bucket);
}

async function deleteAllVersions(context: AwsContext, s3: S3Client, Bucket: string): Promise<void> {
  let KeyMarker: string | undefined;
  let VersionIdMarker: string | undefined;
  for (;;) {
    const page = await s3.send(new ListObjectVersionsCommand({ Bucket, KeyMarker, VersionIdMarker }));
    const versions = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])];
    const objects = versions.flatMap((v) => (v.Key !== undefined ? [{ Key: v.Key, VersionId: v.VersionId }] : []));
    await deleteObjects(context, s3, Bucket, objects);
    if (!page.IsTruncated) return;
    KeyMarker = page.NextKeyMarker;
    VersionIdMarker = page.NextVersionIdMarker;
  }
}

/**
 * ListObjectVersions also lists the objects of an unversioned bucket (as
 * version "null"); this pass is for S3-compatible endpoints that do not.
 */
async function deleteRemainingObjects(context: AwsContext, s3: S3Client, Bucket: string): Promise<void> {
  let ContinuationToken: string | undefined;
  for (;;) {
    const page = await s3.send(new ListObjectsV2Command({ Bucket, ContinuationToken }));
    const objects = (page.Contents ?? []).flatMap((o) => (o.Key !== undefined ? [{ Key: o.Key }] : []));
    await deleteObjects(context, s3, Bucket, objects);
    if (!page.IsTruncated || !page.NextContinuationToken) return;
    ContinuationToken = page.NextContinuationToken;
  }
}

/** Parts of unfinished uploads are stored (and billed) but listed by neither call above. */
async function abortMultipartUploads(context: AwsContext, s3: S3Client, Bucket: string): Promise<void> {
  let KeyMarker: string | undefined;
  let UploadIdMarker: string | undefined;
  for (;;) {
    const page = await s3.send(new ListMultipartUploadsCommand({ Bucket, KeyMarker, UploadIdMarker }));
    for (const upload of page.Uploads ?? []) {
      await unlessNotFound(s3.send(new AbortMultipartUploadCommand({ Bucket, Key: upload.Key, UploadId: upload.UploadId })), ERROR_CODES);
    }
    context.heartbeat();
    if (!page.IsTruncated) return;
    KeyMarker = page.NextKeyMarker;
    UploadIdMarker = page.NextUploadIdMarker;
  }
}

/** True when the bucket holds any object, version or delete marker. */
async function holdsObjects(s3: S3Client, Bucket: string): Promise<boolean> {
  const page = await s3.send(new ListObjectVersionsCommand({ Bucket, MaxKeys: 1 }));
  return Boolean(page.Versions?.length || page.DeleteMarkers?.length);
}

function notEmpty(Bucket: string): Error {
  return Object.assign(
    new Error(
      `bucket ${Bucket} is not empty and forceDestroy is not set, so it is not emptied: deletion waits until it is empty; set spec.forceDestroy: true to delete its contents, or deletionPolicy Retain or Orphan to keep it`,
    ),
    { name: BUCKET_NOT_EMPTY },
  );
}

/** The S3Bucket handler. */
export const bucketHandler: ResourceHandler<BucketSpec> = {
  kind: 'S3Bucket',
  errorCodes: ERROR_CODES,

  async observe(context, desired) {
    const s3 = context.client(S3Client);
    let observed: ObservedBucket;
    try {
      await s3.send(new HeadBucketCommand({ Bucket: desired.bucketName }));
      observed = await readBucket(s3, desired);
    } catch (error) {
      if (isNotFound(error, ERROR_CODES)) return absent();
      throw error;
    }
    return present({
      id: desired.bucketName,
      differences: compareBucket(desired, observed, context.tags).map(formatDifference),
      ready: true,
      status: bucketStatus(desired.bucketName, observed.region),
      ...ownership(context, observed.tags),
    });
  },

  async create(context, desired) {
    const s3 = context.client(S3Client);
    const Bucket = desired.bucketName;
    let madeNow = true;
    try {
      await s3.send(
        new CreateBucketCommand({
          Bucket,
          // us-east-1 is the default location and S3 rejects it when named.
          ...(context.region !== 'us-east-1'
            ? { CreateBucketConfiguration: { LocationConstraint: context.region as BucketLocationConstraint } }
            : {}),
        }),
      );
    } catch (error) {
      // A retry after a crash finds the bucket the first attempt made. (In
      // us-east-1 S3 answers success instead; both end up here.)
      if (errorName(error) !== 'BucketAlreadyOwnedByYou') throw error;
      madeNow = false;
    }
    // Tag before anything else so that a crash from here on leaves a bucket
    // the next observe recognises as ours. A bucket of this account that
    // carries another resource's tag is not taken over. An untagged one is
    // the bucket this create (or its attempt cut short by a crash) made:
    // create runs only after observe found no bucket of this name.
    const existing = await unlessNotFound(s3.send(new GetBucketTaggingCommand({ Bucket })), ERROR_CODES);
    assertNotOwnedByAnother(context, `bucket ${Bucket}`, Object.fromEntries((existing?.TagSet ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])));
    await writeTags(s3, Bucket, context.tags);
    const status = bucketStatus(Bucket, context.region);
    if (!madeNow || existing?.TagSet?.length) {
      // An earlier attempt's bucket, configured part-way: write what differs.
      await reconcileSections(context, s3, desired);
      return present({ id: Bucket, differences: [], ready: true, status });
    }
    // Nothing but the tags is configured on a bucket just made, so there is
    // nothing to read before writing each section the spec sets but the
    // public access flags the spec leaves alone (AWS blocks all four on a
    // new bucket).
    const fresh: ObservedBucket = {
      region: context.region,
      tags: context.tags,
      ...(desired.versioning ? { versioning: 'Unversioned' as const } : {}),
      ...(desired.encryption ? { encryption: null } : {}),
      ...(desired.publicAccessBlock ? { publicAccessBlock: await readPublicAccessBlock(s3, Bucket) } : {}),
    };
    await writeSections(context, s3, desired, fresh);
    return present({ id: Bucket, differences: [], ready: true, status });
  },

  async update(context, desired) {
    await reconcileSections(context, context.client(S3Client), desired);
  },

  async delete(context, desired) {
    const s3 = context.client(S3Client);
    const Bucket = desired.bucketName;
    try {
      // S3 refuses to delete a bucket that holds anything, versions and
      // delete markers included. Emptying it destroys data, which only
      // forceDestroy asks for.
      if (desired.forceDestroy) await emptyBucket(context, s3, Bucket);
      else if (await holdsObjects(s3, Bucket)) throw notEmpty(Bucket);
      else await abortMultipartUploads(context, s3, Bucket);
      await s3.send(new DeleteBucketCommand({ Bucket }));
    } catch (error) {
      if (isNotFound(error, ERROR_CODES)) return 'Deleted';
      // Objects written since the look above.
      if (errorName(error) === BUCKET_NOT_EMPTY && !desired.forceDestroy) throw notEmpty(Bucket);
      throw error;
    }
    return 'Deleted';
  },

  async connectionDetails(context, desired, observed) {
    const { arn, region } = observed.status;
    return {
      name: desired.bucketName,
      arn: typeof arn === 'string' ? arn : `arn:aws:s3:::${desired.bucketName}`,
      region: typeof region === 'string' ? region : context.region,
    };
  },
};
