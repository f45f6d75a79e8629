import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { BucketSpec } from '../../../crds/kinds/s3-bucket.js';
import { CLUSTER_TAG, OWNER_TAG } from '../../../contract/identity.js';
import { ErrorClass, classifyAwsError } from '../errors.js';
import { TEST_CLUSTER_ID, awsError, sequence, stubContext, type CommandInput, type StubResponse } from '../testing.js';
import {
  bucketHandler,
  bucketStatus,
  compareCorsRules,
  compareEncryption,
  compareLifecycleRules,
  comparePublicAccessBlock,
  compareVersioning,
  corsRuleFromAws,
  corsRuleToAws,
  encryptionConfiguration,
  lifecycleRuleFromAws,
  lifecycleRuleToAws,
  publicAccessBlockConfiguration,
  regionFromLocation,
} from './bucket.js';

const OWNER = 'S3Bucket/default/assets';
const TAGS = { Team: 'web', [OWNER_TAG]: OWNER, [CLUSTER_TAG]: TEST_CLUSTER_ID };
const resource = { kind: 'S3Bucket', namespace: 'default', name: 'assets', uid: 'uid-1' };

const spec: BucketSpec = {
  providerRef: { name: 'aws' },
  bucketName: 'assets-bucket',
  versioning: { enabled: true },
  encryption: { algorithm: 'aws_kms', kmsKeyID: 'key-1', bucketKeyEnabled: true },
  publicAccessBlock: { blockPublicAcls: true, restrictPublicBuckets: true },
  lifecycleRules: [{ id: 'logs', enabled: true, prefix: 'logs/', expiration: { days: 30 } }],
  corsRules: [{ allowedOrigins: ['https://example.com'], allowedMethods: ['GET'] }],
};

const tagSet = (tags: Record<string, string>) => ({ TagSet: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) });

/** S3's answers for a bucket that matches `spec` exactly. */
function inSyncBucket(): Record<string, StubResponse> {
  return {
    HeadBucketCommand: {},
    GetBucketLocationCommand: {},
    GetBucketTaggingCommand: tagSet(TAGS),
    GetBucketVersioningCommand: { Status: 'Enabled' },
    GetBucketEncryptionCommand: {
      ServerSideEncryptionConfiguration: {
        Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: 'key-1' }, BucketKeyEnabled: true }],
      },
    },
    GetPublicAccessBlockCommand: {
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: false, BlockPublicPolicy: true, RestrictPublicBuckets: true },
    },
    GetBucketLifecycleConfigurationCommand: {
      Rules: [{ ID: 'logs', Status: 'Enabled', Filter: { Prefix: 'logs/' }, Expiration: { Days: 30 } }],
    },
    GetBucketCorsCommand: { CORSRules: [{ AllowedOrigins: ['https://example.com'], AllowedMethods: ['GET'] }] },
  };
}

const WRITES = [
  'PutBucketTaggingCommand',
  'DeleteBucketTaggingCommand',
  'PutBucketVersioningCommand',
  'PutBucketEncryptionCommand',
  'PutPublicAccessBlockCommand',
  'PutBucketLifecycleConfigurationCommand',
  'DeleteBucketLifecycleCommand',
  'PutBucketCorsCommand',
  'DeleteBucketCorsCommand',
];
const writesOf = (names: string[]) => names.filter((name) => WRITES.includes(name));
const acceptWrites = (): Record<string, StubResponse> => Object.fromEntries(WRITES.map((name) => [name, {}]));

describe('observe', () => {
  test('a missing bucket is exists:false, not an error, and nothing else is read', async () => {
    const context = stubContext({ HeadBucketCommand: awsError('NotFound', { status: 404 }) }, { resource, tags: TAGS });
    const observed = await bucketHandler.observe(context, spec);
    assert.equal(observed.exists, false);
    assert.equal(observed.ready, false);
    assert.deepEqual(context.commandNames(), ['HeadBucketCommand']);
  });

  test('a bucket deleted between HeadBucket and the reads is exists:false too', async () => {
    const context = stubContext(
      { ...inSyncBucket(), GetBucketLocationCommand: awsError('NoSuchBucket', { status: 404 }) },
      { resource, tags: TAGS },
    );
    assert.equal((await bucketHandler.observe(context, spec)).exists, false);
  });

  test('throttling is not mistaken for "not found"', async () => {
    const context = stubContext({ HeadBucketCommand: awsError('SlowDown', { status: 503, fault: 'server' }) }, { resource, tags: TAGS });
    await assert.rejects(bucketHandler.observe(context, spec), { name: 'SlowDown' });
  });

  test('a bucket that matches the spec is up to date, ready, with the status fields', async () => {
    const context = stubContext(inSyncBucket(), { resource, tags: TAGS });
    const observed = await bucketHandler.observe(context, spec);
    assert.deepEqual(observed.differences, []);
    assert.equal(observed.upToDate, true);
    assert.equal(observed.ready, true);
    assert.equal(observed.ownedBy, undefined);
    assert.deepEqual(observed.status, {
      bucketName: 'assets-bucket',
      region: 'us-east-1',
      arn: 'arn:aws:s3:::assets-bucket',
      bucketDomainName: 'assets-bucket.s3.amazonaws.com',
    });
  });

  test('sections the spec leaves unset are neither read nor compared; tags always are', async () => {
    const minimal: BucketSpec = { providerRef: { name: 'aws' }, bucketName: 'assets-bucket' };
    const context = stubContext(
      { HeadBucketCommand: {}, GetBucketLocationCommand: { LocationConstraint: 'EU' }, GetBucketTaggingCommand: tagSet({ [OWNER_TAG]: OWNER, [CLUSTER_TAG]: TEST_CLUSTER_ID }) },
      { resource, tags: TAGS },
    );
    const observed = await bucketHandler.observe(context, minimal);
    assert.deepEqual(context.commandNames().sort(), ['GetBucketLocationCommand', 'GetBucketTaggingCommand', 'HeadBucketCommand']);
    assert.deepEqual(observed.differences, ['tags: +Team']);
    assert.equal(observed.status.region, 'eu-west-1');
    assert.equal(observed.status.bucketDomainName, 'assets-bucket.s3.eu-west-1.amazonaws.com');
  });

  test('"not configured" answers read as none and show up as differences', async () => {
    const context = stubContext(
      {
        ...inSyncBucket(),
        GetBucketTaggingCommand: awsError('NoSuchTagSet', { status: 404 }),
        GetBucketVersioningCommand: {},
        GetBucketEncryptionCommand: awsError('ServerSideEncryptionConfigurationNotFoundError', { status: 404 }),
        GetPublicAccessBlockCommand: awsError('NoSuchPublicAccessBlockConfiguration', { status: 404 }),
        GetBucketLifecycleConfigurationCommand: awsError('NoSuchLifecycleConfiguration', { status: 404 }),
        GetBucketCorsCommand: awsError('NoSuchCORSConfiguration', { status: 404 }),
      },
      { resource, tags: TAGS },
    );
    const observed = await bucketHandler.observe(context, spec);
    assert.equal(observed.upToDate, false);
    assert.deepEqual(observed.differences, [
      `tags: +Team, +${CLUSTER_TAG}, +${OWNER_TAG}`,
      'versioning: Unversioned -> Enabled',
      'encryption: none -> aws:kms (key key-1, bucket key on)',
      'publicAccessBlock: blockPublicAcls false -> true, restrictPublicBuckets false -> true',
      'lifecycleRules: +logs',
      'corsRules: +#1',
    ]);
  });

  test('a bucket tagged for another custom resource reports ownedBy', async () => {
    const context = stubContext(
      { ...inSyncBucket(), GetBucketTaggingCommand: tagSet({ ...TAGS, [OWNER_TAG]: 'S3Bucket/other/assets' }) },
      { resource, tags: TAGS },
    );
    const observed = await bucketHandler.observe(context, spec);
    assert.equal(observed.ownedBy, 'S3Bucket/other/assets');
  });
});

describe('compare', () => {
  test('versioning', () => {
    assert.equal(compareVersioning(true, 'Suspended'), 'Suspended -> Enabled');
    assert.equal(compareVersioning(false, 'Enabled'), 'Enabled -> Suspended');
    assert.equal(compareVersioning(true, 'Enabled'), undefined);
    // S3 cannot go back to "never versioned", so false is satisfied by it.
    assert.equal(compareVersioning(false, 'Unversioned'), undefined);
    assert.equal(compareVersioning(false, 'Suspended'), undefined);
  });

  test('encryption: aws_kms means aws:kms; key and bucket key only when the spec sets them', () => {
    const kms = { algorithm: 'aws:kms', kmsKeyID: 'key-9', bucketKeyEnabled: false };
    assert.equal(compareEncryption({ algorithm: 'aws_kms' }, kms), undefined);
    assert.equal(compareEncryption({ algorithm: 'aws:kms', kmsKeyID: 'key-9' }, kms), undefined);
    assert.equal(compareEncryption({ algorithm: 'aws:kms', kmsKeyID: 'key-1' }, kms), 'aws:kms (key key-9) -> aws:kms (key key-1)');
    assert.equal(compareEncryption({ algorithm: 'aws_kms', bucketKeyEnabled: true }, kms), 'aws:kms (bucket key off) -> aws:kms (bucket key on)');
    assert.equal(compareEncryption({ algorithm: 'AES256' }, kms), 'aws:kms -> AES256');
    assert.equal(compareEncryption({ algorithm: 'AES256' }, null), 'none -> AES256');
  });

  test('public access block compares only the flags the spec sets', () => {
    const observed = { blockPublicAcls: true, ignorePublicAcls: false, blockPublicPolicy: true, restrictPublicBuckets: false };
    assert.equal(comparePublicAccessBlock({ blockPublicAcls: true }, observed), undefined);
    assert.equal(
      comparePublicAccessBlock({ blockPublicAcls: false, ignorePublicAcls: true }, observed),
      'blockPublicAcls true -> false, ignorePublicAcls false -> true',
    );
    assert.equal(comparePublicAccessBlock({ blockPublicPolicy: true }, undefined), 'blockPublicPolicy false -> true');
  });

  test('lifecycle rules by id, order free, defaults filled in', () => {
    const observed = [
      { id: 'b', enabled: true, prefix: '', expiration: { days: 1 } },
      { id: 'a', enabled: true, prefix: 'x/', expiration: { days: 7 } },
      { id: 'gone', enabled: true, prefix: '', expiration: { days: 7 } },
    ];
    assert.equal(
      compareLifecycleRules(
        [
          { id: 'a', enabled: true, prefix: 'x/', expiration: { days: 7 } },
          { id: 'b', enabled: true, expiration: { days: 2 } },
          { id: 'new', enabled: false, expiration: { days: 3 } },
        ],
        observed,
      ),
      '+new, -gone, ~b',
    );
    assert.equal(compareLifecycleRules([{ id: 'b', enabled: true, expiration: { days: 1 } }], [observed[0]]), undefined);
    assert.equal(compareLifecycleRules([], observed), '-a, -b, -gone');
  });

  test('CORS rules by position', () => {
    const rule = { allowedOrigins: ['*'], allowedMethods: ['GET' as const] };
    assert.equal(compareCorsRules([rule], [rule]), undefined);
    assert.equal(compareCorsRules([{ ...rule, maxAgeSeconds: 60 }], [rule]), '~#1');
    assert.equal(compareCorsRules([rule, { ...rule, id: 'b' }], [rule]), '+b');
    assert.equal(compareCorsRules([], [rule]), '-#1');
    assert.equal(compareCorsRules([rule], [{ ...rule, allowedHeaders: [] }]), undefined);
  });

});

describe('mapping', () => {
  test('lifecycle rule: an unset prefix means the whole bucket, and the mapping round-trips', () => {
    const rule = {
      id: 'all',
      enabled: true,
      transitions: [{ days: 30, storageClass: 'GLACIER' as const }],
      expiration: { days: 365 },
      noncurrentVersionExpiration: { noncurrentDays: 10 },
      abortIncompleteMultipartUpload: { daysAfterInitiation: 2 },
    };
    const aws = lifecycleRuleToAws(rule);
    assert.deepEqual(aws, {
      ID: 'all',
      Status: 'Enabled',
      Filter: { Prefix: '' },
      Transitions: [{ Days: 30, StorageClass: 'GLACIER' }],
      Expiration: { Days: 365 },
      NoncurrentVersionExpiration: { NoncurrentDays: 10 },
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: 2 },
    });
    assert.deepEqual(lifecycleRuleFromAws(aws), { ...rule, prefix: '' });
    assert.equal(lifecycleRuleToAws({ id: 'off', enabled: false, prefix: 'tmp/' }).Status, 'Disabled');
    // Older rules carry the deprecated top-level Prefix.
    assert.equal(lifecycleRuleFromAws({ ID: 'old', Status: 'Enabled', Prefix: 'old/' }).prefix, 'old/');
  });

  test('CORS rule round-trips', () => {
    const rule = {
      id: 'web',
      allowedOrigins: ['https://a.example'],
      allowedMethods: ['GET' as const, 'PUT' as const],
      allowedHeaders: ['*'],
      exposeHeaders: ['ETag'],
      maxAgeSeconds: 300,
    };
    const aws = corsRuleToAws(rule);
    assert.deepEqual(aws, {
      ID: 'web',
      AllowedOrigins: ['https://a.example'],
      AllowedMethods: ['GET', 'PUT'],
      AllowedHeaders: ['*'],
      ExposeHeaders: ['ETag'],
      MaxAgeSeconds: 300,
    });
    assert.deepEqual(corsRuleFromAws(aws), rule);
  });

  test('encryption: aws_kms is written as aws:kms; AES256 never carries a key', () => {
    assert.deepEqual(encryptionConfiguration({ algorithm: 'aws_kms', kmsKeyID: 'k', bucketKeyEnabled: true }), {
      Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: 'k' }, BucketKeyEnabled: true }],
    });
    assert.deepEqual(encryptionConfiguration({ algorithm: 'AES256' }), {
      Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
    });
  });

  test('public access block keeps AWS values for the flags the spec leaves unset', () => {
    const observed = { blockPublicAcls: true, ignorePublicAcls: true, blockPublicPolicy: true, restrictPublicBuckets: true };
    assert.deepEqual(publicAccessBlockConfiguration({ blockPublicAcls: false }, observed), {
      BlockPublicAcls: false,
      IgnorePublicAcls: true,
      BlockPublicPolicy: true,
      RestrictPublicBuckets: true,
    });
  });

  test('location constraint to region', () => {
    assert.equal(regionFromLocation(undefined), 'us-east-1');
    assert.equal(regionFromLocation(''), 'us-east-1');
    assert.equal(regionFromLocation('EU'), 'eu-west-1');
    assert.equal(regionFromLocation('ap-south-1'), 'ap-south-1');
  });
});

describe('create', () => {
  /** A bucket that is new: nothing configured yet. */
  function freshBucket(): Record<string, StubResponse> {
    return {
      ...inSyncBucket(),
      ...acceptWrites(),
      CreateBucketCommand: {},
      GetBucketTaggingCommand: sequence(awsError('NoSuchTagSet', { status: 404 }), tagSet(TAGS)),
      GetBucketVersioningCommand: {},
      GetBucketEncryptionCommand: awsError('ServerSideEncryptionConfigurationNotFoundError', { status: 404 }),
      GetPublicAccessBlockCommand: awsError('NoSuchPublicAccessBlockConfiguration', { status: 404 }),
      GetBucketLifecycleConfigurationCommand: awsError('NoSuchLifecycleConfiguration', { status: 404 }),
      GetBucketCorsCommand: awsError('NoSuchCORSConfiguration', { status: 404 }),
    };
  }

  test('creates, tags right away, then writes every configured section', async () => {
    const context = stubContext(freshBucket(), { resource, tags: TAGS });
    const created = await bucketHandler.create(context, spec);
    const names = context.commandNames();
    // A new bucket holds nothing to read back but the public access flags the spec leaves alone.
    assert.deepEqual(names.filter((name) => name.startsWith('Get')), ['GetBucketTaggingCommand', 'GetPublicAccessBlockCommand']);
    assert.deepEqual(created && { id: created.id, upToDate: created.upToDate, status: created.status }, {
      id: 'assets-bucket',
      upToDate: true,
      status: bucketStatus('assets-bucket', 'us-east-1'),
    });
    assert.equal(names[0], 'CreateBucketCommand');
    assert.deepEqual(context.callsTo('CreateBucketCommand'), [{ Bucket: 'assets-bucket' }], 'no LocationConstraint in us-east-1');
    // The first write after CreateBucket is the tagging.
    assert.equal(writesOf(names)[0], 'PutBucketTaggingCommand');
    assert.deepEqual(context.callsTo('PutBucketTaggingCommand'), [{ Bucket: 'assets-bucket', Tagging: tagSet(TAGS) }]);
    assert.deepEqual(writesOf(names).slice(1), [
      'PutBucketVersioningCommand',
      'PutBucketEncryptionCommand',
      'PutPublicAccessBlockCommand',
      'PutBucketLifecycleConfigurationCommand',
      'PutBucketCorsCommand',
    ]);
    assert.deepEqual(context.callsTo('PutBucketLifecycleConfigurationCommand')[0], {
      Bucket: 'assets-bucket',
      LifecycleConfiguration: { Rules: [{ ID: 'logs', Status: 'Enabled', Filter: { Prefix: 'logs/' }, Expiration: { Days: 30 } }] },
    });
    assert.deepEqual(context.callsTo('PutPublicAccessBlockCommand')[0]?.PublicAccessBlockConfiguration, {
      BlockPublicAcls: true,
      IgnorePublicAcls: false,
      BlockPublicPolicy: false,
      RestrictPublicBuckets: true,
    });
  });

  test('outside us-east-1 the region is the LocationConstraint', async () => {
    const context = stubContext(freshBucket(), { resource, tags: TAGS, region: 'eu-central-1' });
    await bucketHandler.create(context, spec);
    assert.deepEqual(context.callsTo('CreateBucketCommand')[0], {
      Bucket: 'assets-bucket',
      CreateBucketConfiguration: { LocationConstraint: 'eu-central-1' },
    });
  });

  test('BucketAlreadyOwnedByYou (a retry after a crash) carries on and converges', async () => {
    const context = stubContext(
      {
        ...inSyncBucket(),
        ...acceptWrites(),
        CreateBucketCommand: awsError('BucketAlreadyOwnedByYou', { status: 409 }),
        // The first attempt got as far as tagging and versioning.
        GetBucketTaggingCommand: tagSet(TAGS),
        GetBucketEncryptionCommand: awsError('ServerSideEncryptionConfigurationNotFoundError', { status: 404 }),
      },
      { resource, tags: TAGS },
    );
    await bucketHandler.create(context, spec);
    assert.deepEqual(writesOf(context.commandNames()), ['PutBucketTaggingCommand', 'PutBucketEncryptionCommand']);
  });

  test('BucketAlreadyExists (another account has the name) is terminal', async () => {
    const context = stubContext({ CreateBucketCommand: awsError('BucketAlreadyExists', { status: 409 }) }, { resource, tags: TAGS });
    const error = await bucketHandler.create(context, spec).then(
      () => assert.fail('create should fail'),
      (e: unknown) => e,
    );
    assert.equal(classifyAwsError(error, bucketHandler.errorCodes), ErrorClass.Terminal);
    assert.deepEqual(context.commandNames(), ['CreateBucketCommand']);
  });

  test('a bucket of this account tagged for another resource is not taken over', async () => {
    const context = stubContext(
      { ...freshBucket(), CreateBucketCommand: {}, GetBucketTaggingCommand: tagSet({ [OWNER_TAG]: 'S3Bucket/other/x' }) },
      { resource, tags: TAGS },
    );
    const error = await bucketHandler.create(context, spec).then(
      () => assert.fail('create should fail'),
      (e: unknown) => e,
    );
    assert.equal(classifyAwsError(error, bucketHandler.errorCodes), ErrorClass.Terminal);
    assert.deepEqual(writesOf(context.commandNames()), []);
  });
});

describe('update', () => {
  test('writes only the sections that differ', async () => {
    const context = stubContext(
      { ...inSyncBucket(), ...acceptWrites(), GetBucketVersioningCommand: { Status: 'Suspended' } },
      { resource, tags: TAGS },
    );
    const observed = await bucketHandler.observe(context, spec);
    assert.deepEqual(observed.differences, ['versioning: Suspended -> Enabled']);
    await bucketHandler.update(context, spec, observed);
    assert.deepEqual(writesOf(context.commandNames()), ['PutBucketVersioningCommand']);
    assert.deepEqual(context.callsTo('PutBucketVersioningCommand'), [
      { Bucket: 'assets-bucket', VersioningConfiguration: { Status: 'Enabled' } },
    ]);
  });

  test('empty lifecycleRules and corsRules delete those configurations', async () => {
    const cleared: BucketSpec = { ...spec, lifecycleRules: [], corsRules: [] };
    const context = stubContext({ ...inSyncBucket(), ...acceptWrites() }, { resource, tags: TAGS });
    const observed = await bucketHandler.observe(context, cleared);
    assert.deepEqual(observed.differences, ['lifecycleRules: -logs', 'corsRules: -#1']);
    await bucketHandler.update(context, cleared, observed);
    assert.deepEqual(writesOf(context.commandNames()), ['DeleteBucketLifecycleCommand', 'DeleteBucketCorsCommand']);
  });

  test('the public access block write keeps the flags the spec does not set', async () => {
    const changed: BucketSpec = { ...spec, publicAccessBlock: { blockPublicAcls: false } };
    const context = stubContext({ ...inSyncBucket(), ...acceptWrites() }, { resource, tags: TAGS });
    await bucketHandler.update(context, changed, await bucketHandler.observe(context, changed));
    assert.deepEqual(context.callsTo('PutPublicAccessBlockCommand'), [
      {
        Bucket: 'assets-bucket',
        PublicAccessBlockConfiguration: { BlockPublicAcls: false, IgnorePublicAcls: false, BlockPublicPolicy: true, RestrictPublicBuckets: true },
      },
    ]);
  });

  test('tags: the exact set replaces whatever was added out of band', async () => {
    const context = stubContext(
      { ...inSyncBucket(), ...acceptWrites(), GetBucketTaggingCommand: tagSet({ ...TAGS, Extra: 'x', Team: 'old' }) },
      { resource, tags: TAGS },
    );
    const observed = await bucketHandler.observe(context, spec);
    assert.deepEqual(observed.differences, ['tags: -Extra, ~Team']);
    await bucketHandler.update(context, spec, observed);
    assert.deepEqual(writesOf(context.commandNames()), ['PutBucketTaggingCommand']);
    assert.deepEqual(context.callsTo('PutBucketTaggingCommand')[0], { Bucket: 'assets-bucket', Tagging: tagSet(TAGS) });
  });

  test('an empty tag set deletes the tagging', async () => {
    const context = stubContext(
      { ...inSyncBucket(), ...acceptWrites(), GetBucketTaggingCommand: tagSet({ Extra: 'x' }) },
      { resource, tags: {} },
    );
    await bucketHandler.update(context, spec, await bucketHandler.observe(context, spec));
    assert.deepEqual(writesOf(context.commandNames()), ['DeleteBucketTaggingCommand']);
  });

  test('encryption is written with aws:kms, key and bucket key', async () => {
    const context = stubContext(
      {
        ...inSyncBucket(),
        ...acceptWrites(),
        GetBucketEncryptionCommand: {
          ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        },
      },
      { resource, tags: TAGS },
    );
    const observed = await bucketHandler.observe(context, spec);
    assert.deepEqual(observed.differences, ['encryption: AES256 (bucket key off) -> aws:kms (key key-1, bucket key on)']);
    await bucketHandler.update(context, spec, observed);
    assert.deepEqual(context.callsTo('PutBucketEncryptionCommand'), [
      { Bucket: 'assets-bucket', ServerSideEncryptionConfiguration: encryptionConfiguration(spec.encryption!) },
    ]);
  });
});

describe('delete', () => {
  const version = (Key: string, VersionId: string) => ({ Key, VersionId });
  const forceSpec: BucketSpec = { ...spec, forceDestroy: true };

  test('a bucket holding objects is not emptied without forceDestroy: BucketNotEmpty, terminal', async () => {
    const context = stubContext(
      { ListObjectVersionsCommand: { IsTruncated: false, Versions: [version('keep-me', 'v1')] } },
      { resource, tags: TAGS },
    );
    const error = await bucketHandler.delete(context, spec).then(
      () => assert.fail('delete should refuse'),
      (e: unknown) => e,
    );
    assert.equal((error as Error).name, 'BucketNotEmpty');
    assert.match((error as Error).message, /forceDestroy/);
    assert.equal(classifyAwsError(error, bucketHandler.errorCodes), ErrorClass.Terminal);
    assert.deepEqual(context.commandNames(), ['ListObjectVersionsCommand']);
    assert.deepEqual(context.callsTo('ListObjectVersionsCommand'), [{ Bucket: 'assets-bucket', MaxKeys: 1 }]);
  });

  test('an empty bucket is deleted without forceDestroy, its unfinished uploads aborted', async () => {
    const context = stubContext(
      {
        ListObjectVersionsCommand: { IsTruncated: false },
        ListMultipartUploadsCommand: { IsTruncated: false, Uploads: [{ Key: 'big', UploadId: 'u1' }] },
        AbortMultipartUploadCommand: {},
        DeleteBucketCommand: {},
      },
      { resource, tags: TAGS },
    );
    assert.equal(await bucketHandler.delete(context, spec), 'Deleted');
    assert.deepEqual(context.callsTo('DeleteObjectsCommand'), []);
    assert.equal(context.commandNames().at(-1), 'DeleteBucketCommand');
  });

  test('empties a versioned bucket across two pages, then deletes it', async () => {
    const context = stubContext(
      {
        ListObjectVersionsCommand: sequence(
          {
            IsTruncated: true,
            NextKeyMarker: 'b',
            NextVersionIdMarker: 'v2',
            Versions: [version('a', 'v1'), version('b', 'v2')],
            DeleteMarkers: [version('a', 'm1')],
          },
          { IsTruncated: false, Versions: [version('c', 'v3')] },
        ),
        DeleteObjectsCommand: {},
        ListObjectsV2Command: { IsTruncated: false },
        ListMultipartUploadsCommand: { IsTruncated: false, Uploads: [{ Key: 'big', UploadId: 'u1' }] },
        AbortMultipartUploadCommand: {},
        DeleteBucketCommand: {},
      },
      { resource, tags: TAGS },
    );
    assert.equal(await bucketHandler.delete(context, forceSpec), 'Deleted');
    const lists = context.callsTo('ListObjectVersionsCommand');
    assert.deepEqual(lists[1], { Bucket: 'assets-bucket', KeyMarker: 'b', VersionIdMarker: 'v2' });
    assert.deepEqual(
      context.callsTo('DeleteObjectsCommand').map((input) => (input.Delete as { Objects: unknown[] }).Objects),
      [[version('a', 'v1'), version('b', 'v2'), version('a', 'm1')], [version('c', 'v3')]],
    );
    assert.deepEqual(context.callsTo('AbortMultipartUploadCommand'), [{ Bucket: 'assets-bucket', Key: 'big', UploadId: 'u1' }]);
    assert.equal(context.commandNames().at(-1), 'DeleteBucketCommand');
    assert.ok(context.heartbeats >= 2, 'heartbeats between batches');
  });

  test('deletes at most 1000 objects per call', async () => {
    const versions = Array.from({ length: 1500 }, (_, i) => version(`k${i}`, 'null'));
    const context = stubContext(
      {
        ListObjectVersionsCommand: { IsTruncated: false, Versions: versions },
        DeleteObjectsCommand: {},
        ListObjectsV2Command: { IsTruncated: false },
        ListMultipartUploadsCommand: { IsTruncated: false },
        DeleteBucketCommand: {},
      },
      { resource, tags: TAGS },
    );
    await bucketHandler.delete(context, forceSpec);
    const sizes = context.callsTo('DeleteObjectsCommand').map((input: CommandInput) => (input.Delete as { Objects: unknown[] }).Objects.length);
    assert.deepEqual(sizes, [1000, 500]);
  });

  test('objects listed only by ListObjectsV2 are deleted too', async () => {
    const context = stubContext(
      {
        ListObjectVersionsCommand: { IsTruncated: false },
        ListObjectsV2Command: sequence(
          { IsTruncated: true, NextContinuationToken: 't', Contents: [{ Key: 'x' }] },
          { IsTruncated: false, Contents: [{ Key: 'y' }] },
        ),
        DeleteObjectsCommand: {},
        ListMultipartUploadsCommand: { IsTruncated: false },
        DeleteBucketCommand: {},
      },
      { resource, tags: TAGS },
    );
    await bucketHandler.delete(context, forceSpec);
    assert.equal(context.callsTo('ListObjectsV2Command')[1]?.ContinuationToken, 't');
    assert.deepEqual(
      context.callsTo('DeleteObjectsCommand').map((input) => (input.Delete as { Objects: unknown[] }).Objects),
      [[{ Key: 'x' }], [{ Key: 'y' }]],
    );
  });

  test('a bucket that is already gone is Deleted', async () => {
    const context = stubContext({ ListObjectVersionsCommand: awsError('NoSuchBucket', { status: 404 }) }, { resource, tags: TAGS });
    assert.equal(await bucketHandler.delete(context, forceSpec), 'Deleted');
    assert.deepEqual(context.commandNames(), ['ListObjectVersionsCommand']);
  });

  test('objects S3 refused to delete fail the call under their AWS code', async () => {
    const context = stubContext(
      {
        ListObjectVersionsCommand: { IsTruncated: false, Versions: [version('locked', 'v1')] },
        DeleteObjectsCommand: { Errors: [{ Key: 'locked', VersionId: 'v1', Code: 'AccessDenied', Message: 'Access Denied' }] },
      },
      { resource, tags: TAGS },
    );
    await assert.rejects(bucketHandler.delete(context, forceSpec), { name: 'AccessDenied' });
    assert.ok(!context.commandNames().includes('DeleteBucketCommand'));
  });

  test('BucketNotEmpty from DeleteBucket (written to since the look) is terminal without forceDestroy', async () => {
    const context = stubContext(
      {
        ListObjectVersionsCommand: { IsTruncated: false },
        ListMultipartUploadsCommand: { IsTruncated: false },
        DeleteBucketCommand: awsError('BucketNotEmpty', { status: 409 }),
      },
      { resource, tags: TAGS },
    );
    await assert.rejects(bucketHandler.delete(context, spec), { name: 'BucketNotEmpty', message: /forceDestroy/ });
  });
});
