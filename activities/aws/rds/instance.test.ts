import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DBInstance } from '@aws-sdk/client-rds';
import type { RDSInstanceSpec } from '../../../crds/kinds/rds-instance.js';
import { CLUSTER_TAG, OWNER_TAG } from '../../../contract/identity.js';
import { toFailure } from '../activities.js';
import { ErrorClass, classifyAwsError } from '../errors.js';
import { TEST_CLUSTER_ID, awsError, reasonOf, stubContext, type StubContextOptions } from '../testing.js';
import {
  DELETION_PROTECTED,
  PASSWORD_VERSION_TAG,
  compareInstance,
  engineVersionMatches,
  finalSnapshotIdentifier,
  instanceHandler,
  lifecycleOf,
  pendingModifications,
} from './instance.js';

const OWNER = 'RDSInstance/default/orders';
const resource = { kind: 'RDSInstance', namespace: 'default', name: 'orders', uid: 'c0ffee00-1111-2222-3333-444455556666' };
const TAGS = { Team: 'shop', [OWNER_TAG]: OWNER, [CLUSTER_TAG]: TEST_CLUSTER_ID };
const PASSWORD = { value: 'hunter2-hunter2', version: 'secret:s-uid:41' };

const spec: RDSInstanceSpec = {
  providerRef: { name: 'aws' },
  dbInstanceIdentifier: 'orders',
  dbInstanceClass: 'db.t3.medium',
  engine: 'postgres',
  engineVersion: '14',
  allocatedStorage: 100,
  masterUsername: 'orders',
  masterUserPasswordSecretRef: { name: 'orders-pw', key: 'password' },
  backupRetentionPeriod: 7,
  preferredMaintenanceWindow: 'Sun:04:00-Sun:05:00',
  vpcSecurityGroupIDs: ['sg-2', 'sg-1'],
  deletionProtection: true,
};

/** AWS's view of an instance matching `spec`, ours, with the password of PASSWORD. */
function matching(overrides: Partial<DBInstance> = {}): DBInstance {
  return {
    DBInstanceIdentifier: 'orders',
    DBInstanceArn: 'arn:aws:rds:us-east-1:123456789012:db:orders',
    DBInstanceStatus: 'available',
    DBInstanceClass: 'db.t3.medium',
    Engine: 'postgres',
    EngineVersion: '14.7',
    AllocatedStorage: 100,
    BackupRetentionPeriod: 7,
    PreferredMaintenanceWindow: 'sun:04:00-sun:05:00',
    VpcSecurityGroups: [{ VpcSecurityGroupId: 'sg-1' }, { VpcSecurityGroupId: 'sg-2' }],
    DeletionProtection: true,
    Endpoint: { Address: 'orders.abc.us-east-1.rds.amazonaws.com', Port: 5432 },
    TagList: [...Object.entries(TAGS), [PASSWORD_VERSION_TAG, PASSWORD.version]].map(([Key, Value]) => ({ Key, Value })),
    ...overrides,
  };
}

function context(responses: Parameters<typeof stubContext>[0], options: StubContextOptions = {}) {
  return stubContext(responses, { resource, tags: TAGS, secrets: { 'orders-pw/password': PASSWORD }, ...options });
}

const described = (instance: DBInstance) => ({ DescribeDBInstancesCommand: { DBInstances: [instance] } });

describe('RDSInstance comparison', () => {
  const resolved = { securityGroupIds: ['sg-1', 'sg-2'], passwordVersion: PASSWORD.version };

  test('an instance as specified differs in nothing; a minor version under the major asked for matches', () => {
    assert.deepEqual(compareInstance(spec, matching(), resolved, TAGS), []);
    assert.ok(engineVersionMatches('14', '14.7'));
    assert.ok(!engineVersionMatches('14', '140.1'));
  });

  test('pending values count as applied, so a deferred change is not sent again', () => {
    const pending = matching({ DBInstanceClass: 'db.t3.small', PendingModifiedValues: { DBInstanceClass: 'db.t3.medium' } });
    assert.deepEqual(compareInstance(spec, pending, resolved, TAGS), []);
    const other = matching({ DBInstanceClass: 'db.t3.small' });
    assert.deepEqual(
      compareInstance(spec, other, resolved, TAGS).map((d) => [d.field, d.detail, d.modify]),
      [['dbInstanceClass', 'db.t3.small -> db.t3.medium', { DBInstanceClass: 'db.t3.medium' }]],
    );
  });

  test('a major upgrade asks AWS to allow it; fields the spec leaves unset are not managed', () => {
    const old = matching({ EngineVersion: '13.4', MultiAZ: true, PubliclyAccessible: true });
    const [version, ...rest] = compareInstance(spec, old, resolved, TAGS);
    assert.deepEqual(version?.modify, { EngineVersion: '14', AllowMajorVersionUpgrade: true });
    assert.deepEqual(rest, []);
  });

  test('another password version is a difference in words only; tags are compared without the version tag', () => {
    const differences = compareInstance(spec, matching(), { ...resolved, passwordVersion: 'secret:s-uid:42' }, { ...TAGS, Team: 'billing' });
    assert.deepEqual(differences.map((d) => `${d.field}: ${d.detail}`), ['tags: ~Team', 'masterUserPassword: changed']);
    assert.ok(!JSON.stringify(differences).includes(PASSWORD.value));
  });

  test('lifecycle, pending modifications shown without the password, deterministic final snapshot name', () => {
    assert.deepEqual(lifecycleOf('creating'), { lifecycle: 'Pending' });
    assert.deepEqual(lifecycleOf('modifying'), { lifecycle: 'Pending' });
    assert.deepEqual(lifecycleOf('deleting'), { lifecycle: 'Deleting' });
    assert.deepEqual(lifecycleOf('storage-full'), { lifecycle: 'Failed' });
    assert.deepEqual(pendingModifications(matching({ PendingModifiedValues: { MasterUserPassword: '****', AllocatedStorage: 200 } })), {
      MasterUserPassword: 'changing',
      AllocatedStorage: '200',
    });
    assert.equal(finalSnapshotIdentifier('orders', resource.uid), 'orders-final-c0ffee001111');
    assert.equal(finalSnapshotIdentifier('orders', resource.uid), finalSnapshotIdentifier('orders', resource.uid));
  });
});

describe('RDSInstance handler', () => {
  test('observe: not found is absent; creating is not ready and compares nothing; found by the recorded identifier', async () => {
    const missing = context({ DescribeDBInstancesCommand: awsError('DBInstanceNotFoundFault', { status: 404 }) });
    assert.equal((await instanceHandler.observe(missing, spec)).exists, false);

    const creating = context(described(matching({ DBInstanceStatus: 'creating', DBInstanceClass: 'db.t3.small' })), { awsID: 'orders' });
    const observed = await instanceHandler.observe(creating, spec);
    assert.deepEqual(
      [observed.exists, observed.ready, observed.state, observed.lifecycle, observed.differences, observed.id],
      [true, false, 'creating', 'Pending', [], 'orders'],
    );
    assert.deepEqual(creating.callsTo('DescribeDBInstancesCommand'), [{ DBInstanceIdentifier: 'orders' }]);
    assert.equal(observed.status.finalSnapshotIdentifier, 'orders-final-c0ffee001111');
  });

  test('observe: an untagged instance is unmanaged; available and as specified is ready and up to date', async () => {
    const untagged = await instanceHandler.observe(context(described(matching({ TagList: [] }))), spec);
    assert.equal(untagged.unmanaged, true);
    const ours = await instanceHandler.observe(context(described(matching())), spec);
    assert.deepEqual([ours.ready, ours.upToDate, ours.status.endpoint, ours.status.port], [true, true, 'orders.abc.us-east-1.rds.amazonaws.com', 5432]);
  });

  test('create: password from the Secret, owner tags and the password version with the call', async () => {
    const ctx = context({ CreateDBInstanceCommand: {} });
    await instanceHandler.create(ctx, spec);
    const [input] = ctx.callsTo('CreateDBInstanceCommand');
    assert.equal(input?.MasterUserPassword, PASSWORD.value);
    assert.deepEqual(input?.VpcSecurityGroupIds, ['sg-1', 'sg-2']);
    const tags = Object.fromEntries((input?.Tags as Array<{ Key: string; Value: string }>).map((tag) => [tag.Key, tag.Value]));
    assert.deepEqual(tags, { ...TAGS, [PASSWORD_VERSION_TAG]: PASSWORD.version });
  });

  test('create: an inline password works; references resolve', async () => {
    const ctx = context(
      { CreateDBInstanceCommand: {} },
      {
        inlineSecrets: { masterUserPassword: { value: 'inline-pass-1', version: 'inline:3' } },
        resolved: { 'DBSubnetGroup/default/tier': 'tier-group', 'SecurityGroup/default/db': 'sg-9' },
      },
    );
    const inline: RDSInstanceSpec = {
      ...spec,
      masterUserPasswordSecretRef: undefined,
      vpcSecurityGroupIDs: undefined,
      vpcSecurityGroupRefs: [{ name: 'db' }],
      dbSubnetGroupRef: { name: 'tier' },
    };
    await instanceHandler.create(ctx, inline);
    const [input] = ctx.callsTo('CreateDBInstanceCommand');
    assert.deepEqual([input?.MasterUserPassword, input?.DBSubnetGroupName, input?.VpcSecurityGroupIds], ['inline-pass-1', 'tier-group', ['sg-9']]);
  });

  test('create: an existing instance is ours from an earlier attempt, someone else’s (AlreadyExists) or another resource’s', async () => {
    const exists = awsError('DBInstanceAlreadyExistsFault');
    await instanceHandler.create(context({ CreateDBInstanceCommand: exists, ...described(matching()) }), spec);
    const untagged = context({ CreateDBInstanceCommand: exists, ...described(matching({ TagList: [] })) });
    const refused = toFailure(await instanceHandler.create(untagged, spec).catch((error: unknown) => error));
    assert.equal(reasonOf(refused), 'AlreadyExists');
    const another = context({
      CreateDBInstanceCommand: exists,
      ...described(matching({ TagList: [{ Key: OWNER_TAG, Value: 'RDSInstance/other/orders' }, { Key: CLUSTER_TAG, Value: TEST_CLUSTER_ID }] })),
    });
    const conflict = toFailure(await instanceHandler.create(another, spec).catch((error: unknown) => error));
    assert.equal(reasonOf(conflict), 'OwnedByAnotherResource');
  });

  test('update: one ModifyDBInstance with what differs, the new password, applyImmediately as the spec says; then the version tag', async () => {
    const ctx = context(
      {
        ...described(matching({ DBInstanceClass: 'db.t3.small' })),
        ModifyDBInstanceCommand: {},
        AddTagsToResourceCommand: {},
      },
      { secrets: { 'orders-pw/password': { value: 'new-password-9', version: 'secret:s-uid:42' } } },
    );
    await instanceHandler.update(ctx, { ...spec, applyImmediately: false }, await instanceHandler.observe(ctx, spec));
    assert.deepEqual(ctx.callsTo('ModifyDBInstanceCommand'), [
      { DBInstanceClass: 'db.t3.medium', MasterUserPassword: 'new-password-9', DBInstanceIdentifier: 'orders', ApplyImmediately: false },
    ]);
    assert.deepEqual(ctx.callsTo('AddTagsToResourceCommand'), [
      { ResourceName: 'arn:aws:rds:us-east-1:123456789012:db:orders', Tags: [{ Key: PASSWORD_VERSION_TAG, Value: 'secret:s-uid:42' }] },
    ]);
  });

  test('update: a busy instance is left alone until it is available', async () => {
    const ctx = context(described(matching({ DBInstanceStatus: 'modifying', DBInstanceClass: 'db.t3.small' })));
    await instanceHandler.update(ctx, spec, await instanceHandler.observe(ctx, spec));
    assert.deepEqual(ctx.commandNames(), ['DescribeDBInstancesCommand', 'DescribeDBInstancesCommand']);
  });

  test('delete: final snapshot by default, none with skipFinalSnapshot, nothing to do when gone or deleting', async () => {
    const unprotected = matching({ DeletionProtection: false });
    const ctx = context({ ...described(unprotected), DeleteDBInstanceCommand: {} }, { deleting: true });
    assert.equal(await instanceHandler.delete(ctx, { ...spec, deletionProtection: false }), 'Deleting');
    assert.deepEqual(ctx.callsTo('DeleteDBInstanceCommand'), [{ DBInstanceIdentifier: 'orders', FinalDBSnapshotIdentifier: 'orders-final-c0ffee001111' }]);

    const skip = context({ ...described(unprotected), DeleteDBInstanceCommand: {} }, { deleting: true });
    await instanceHandler.delete(skip, { ...spec, deletionProtection: false, skipFinalSnapshot: true });
    assert.deepEqual(skip.callsTo('DeleteDBInstanceCommand'), [{ DBInstanceIdentifier: 'orders', SkipFinalSnapshot: true }]);

    const deleting = context(described(matching({ DBInstanceStatus: 'deleting' })), { deleting: true });
    assert.equal(await instanceHandler.delete(deleting, spec), 'Deleting');
    const gone = context({ DescribeDBInstancesCommand: awsError('DBInstanceNotFoundFault', { status: 404 }) }, { deleting: true });
    assert.equal(await instanceHandler.delete(gone, spec), 'Deleted');
  });

  test('delete: deletion protection holds it (terminal, with the fix) unless the spec turns it off', async () => {
    const held = context(described(matching()), { deleting: true });
    const error = await instanceHandler.delete(held, spec).catch((caught: unknown) => caught);
    assert.equal((error as Error).name, DELETION_PROTECTED);
    assert.match((error as Error).message, /set spec\.deletionProtection: false/);
    assert.equal(classifyAwsError(error, instanceHandler.errorCodes), ErrorClass.Terminal);
    assert.deepEqual(held.commandNames(), ['DescribeDBInstancesCommand'], 'no delete call');

    const unset = context(described(matching()), { deleting: true });
    await assert.rejects(instanceHandler.delete(unset, { ...spec, deletionProtection: undefined }), { name: DELETION_PROTECTED });

    const allowed = context({ ...described(matching()), ModifyDBInstanceCommand: {}, DeleteDBInstanceCommand: {} }, { deleting: true });
    assert.equal(await instanceHandler.delete(allowed, { ...spec, deletionProtection: false }), 'Deleting');
    assert.deepEqual(allowed.commandNames(), ['DescribeDBInstancesCommand', 'ModifyDBInstanceCommand', 'DeleteDBInstanceCommand']);
    assert.deepEqual(allowed.callsTo('ModifyDBInstanceCommand'), [{ DBInstanceIdentifier: 'orders', DeletionProtection: false, ApplyImmediately: true }]);
  });

  test('connection details: endpoint, port, username and the password read in the activity', async () => {
    const ctx = context(described(matching()));
    const observed = await instanceHandler.observe(ctx, spec);
    assert.deepEqual(await instanceHandler.connectionDetails?.(ctx, spec, observed), {
      endpoint: 'orders.abc.us-east-1.rds.amazonaws.com',
      port: '5432',
      username: 'orders',
      password: PASSWORD.value,
      engine: 'postgres',
      arn: 'arn:aws:rds:us-east-1:123456789012:db:orders',
      region: 'us-east-1',
    });
  });
});
