/**
 * RDSInstance: one RDS DB instance, found by its identifier (AWS's own name
 * for it, and the ID the workflow records).
 *
 * Slow by nature: AWS takes minutes to create, modify or delete an instance.
 * Observe reports the state (`creating`, `modifying`…) with `ready: false`
 * and the workflow waits on durable timers between looks, so no activity
 * and no worker slot is held meanwhile. Nothing here waits.
 *
 * Modifications are applied only while the instance is `available`: AWS
 * refuses most of them otherwise, so until then observe reports no
 * differences and the workflow simply waits. What AWS has accepted but not
 * yet applied (PendingModifiedValues, e.g. with applyImmediately: false) is
 * compared as if applied, so a deferred change is not sent again every pass,
 * and is shown in status.pendingModifications.
 *
 * The master password never leaves this module but to AWS (and the
 * connection Secret). Which value AWS has is tracked without storing it: the
 * instance carries a tag with the version of the value last set (the
 * Secret's uid and resourceVersion, or the object's generation for an inline
 * password), and a different version is applied as a password change.
 *
 * Deletion: deletionPolicy Delete takes a final snapshot unless
 * skipFinalSnapshot, named from the identifier and the object's uid, so a
 * retried delete never takes a second one. Deletion protection on in AWS
 * makes deletion wait (DeletionProtected) until the spec sets
 * deletionProtection: false, which delete then applies before deleting.
 */
import {
  DeleteDBInstanceCommand,
  DescribeDBInstancesCommand,
  ModifyDBInstanceCommand,
  RDSClient,
  CreateDBInstanceCommand,
  type DBInstance,
  type ModifyDBInstanceCommandInput,
} from '@aws-sdk/client-rds';
import type { RDSInstanceSpec } from '../../../crds/kinds/rds-instance.js';
import { INVALID_SPEC, errorName, type ErrorCodes, unlessNotFound } from '../errors.js';
import { absent, present, type AwsContext, type Lifecycle, type Observation, type ResourceHandler, type SecretValue } from '../handler.js';
import { ADOPT_BY_NAME_HINT, alreadyExists, assertNotOwnedByAnother, compareTags, ownership, type Tags } from '../tags.js';
import { RDS_ERROR_CODES, rdsTagList, rdsTagMap, reconcileRdsTags } from './subnet-group.js';

/** Tag holding the version (never the value) of the master password last set. */
export const PASSWORD_VERSION_TAG = 'aws-infra-operator.runner.codes/password-version';

/** Error name of a deletion that deletion protection in AWS holds up; terminal until the spec changes. */
export const DELETION_PROTECTED = 'DeletionProtected';

const ERROR_CODES: ErrorCodes = {
  notFound: [...RDS_ERROR_CODES.notFound],
  retryable: [...RDS_ERROR_CODES.retryable, 'InsufficientDBInstanceCapacityFault'],
  terminal: [
    ...RDS_ERROR_CODES.terminal,
    DELETION_PROTECTED,
    'InvalidParameterValue',
    'InvalidParameterCombination',
    'KMSKeyNotAccessibleFault',
    'StorageTypeNotSupportedFault',
    'StorageQuotaExceededFault',
    'InstanceQuotaExceededFault',
    'DBSnapshotAlreadyExistsFault',
    'SnapshotQuotaExceededFault',
  ],
};

/** States in which the instance serves connections (AWS's "usable" states). */
const USABLE = new Set(['available', 'backing-up', 'storage-optimization', 'configuring-log-exports', 'configuring-enhanced-monitoring']);
/** States from which AWS will not come back by itself. */
const FAILED = new Set(['failed', 'incompatible-parameters', 'incompatible-network', 'incompatible-option-group', 'incompatible-restore', 'storage-full', 'inaccessible-encryption-credentials', 'restore-error']);

/** An RDS instance state in the workflow's terms. */
export function lifecycleOf(state: string | undefined): { lifecycle?: Lifecycle } {
  if (state === undefined) return {};
  if (state === 'available') return { lifecycle: 'Available' };
  if (state === 'deleting') return { lifecycle: 'Deleting' };
  if (FAILED.has(state)) return { lifecycle: 'Failed' };
  return { lifecycle: 'Pending' };
}

/** The final snapshot's name: the identifier and part of the object's uid, so it is the same on every try. */
export function finalSnapshotIdentifier(identifier: string, uid: string): string {
  return `${identifier}-final-${uid.replace(/[^a-z0-9]/gi, '').slice(0, 12).toLowerCase()}`;
}

/** The master password the spec sets: from its Secret, or inline in an older manifest. */
async function masterPassword(context: AwsContext, desired: RDSInstanceSpec): Promise<SecretValue> {
  if (desired.masterUserPasswordSecretRef) return context.secret(desired.masterUserPasswordSecretRef);
  const inline = await context.inlineSecret('masterUserPassword');
  if (inline) return inline;
  throw Object.assign(new Error('set spec.masterUserPasswordSecretRef (recommended) or spec.masterUserPassword'), { name: INVALID_SPEC });
}

/** The security group IDs the spec names, references resolved; undefined when it names none. */
async function securityGroupIds(context: AwsContext, desired: RDSInstanceSpec): Promise<string[] | undefined> {
  if (desired.vpcSecurityGroupIDs === undefined && desired.vpcSecurityGroupRefs === undefined) return undefined;
  const resolved = await Promise.all(
    (desired.vpcSecurityGroupRefs ?? []).map((ref) => context.resolve({ kind: 'SecurityGroup', ...ref }, 'groupID')),
  );
  return [...new Set([...(desired.vpcSecurityGroupIDs ?? []), ...resolved])].sort();
}

async function subnetGroupName(context: AwsContext, desired: RDSInstanceSpec): Promise<string | undefined> {
  if (desired.dbSubnetGroupRef) return context.resolve({ kind: 'DBSubnetGroup', ...desired.dbSubnetGroupRef }, 'dbSubnetGroupName');
  return desired.dbSubnetGroupName;
}

/** What the spec wants beyond itself: references resolved, and the password's version. */
export interface Resolved {
  securityGroupIds?: string[];
  /** Undefined when the password is not managed (observe-only). */
  passwordVersion?: string;
}

/** One field that differs, and the part of ModifyDBInstance that fixes it. */
export interface Difference {
  field: string;
  detail: string;
  modify?: Partial<ModifyDBInstanceCommandInput>;
}

/** The engine version matches when equal, or when the spec names only a prefix of it ("14" for "14.7"). */
export function engineVersionMatches(desired: string, observed: string | undefined): boolean {
  return observed !== undefined && (observed === desired || observed.startsWith(`${desired}.`));
}

function majorOf(version: string | undefined): string {
  return (version ?? '').split('.')[0] ?? '';
}

/** The tags of the instance without the password version, as the user's tags are compared. */
function userTags(tags: Tags): Tags {
  return Object.fromEntries(Object.entries(tags).filter(([key]) => key !== PASSWORD_VERSION_TAG));
}

/**
 * Every field where the instance (its pending values counted as applied)
 * differs from the spec. Fields the spec leaves unset are not managed;
 * fixed-at-creation ones are refused at apply by the CRD and not compared.
 */
export function compareInstance(desired: RDSInstanceSpec, instance: DBInstance, resolved: Resolved, desiredTags: Tags): Difference[] {
  const pending = instance.PendingModifiedValues ?? {};
  const differences: Difference[] = [];
  const scalar = <T extends string | number | boolean>(field: string, want: T | undefined, have: T | undefined, modify: Partial<ModifyDBInstanceCommandInput>) => {
    if (want === undefined || want === have) return;
    differences.push({ field, detail: `${have === undefined ? 'unset' : String(have)} -> ${String(want)}`, modify });
  };
  scalar('dbInstanceClass', desired.dbInstanceClass, pending.DBInstanceClass ?? instance.DBInstanceClass, { DBInstanceClass: desired.dbInstanceClass });
  const version = pending.EngineVersion ?? instance.EngineVersion;
  if (desired.engineVersion !== undefined && !engineVersionMatches(desired.engineVersion, version)) {
    differences.push({
      field: 'engineVersion',
      detail: `${version ?? 'unset'} -> ${desired.engineVersion}`,
      modify: {
        EngineVersion: desired.engineVersion,
        ...(majorOf(desired.engineVersion) !== majorOf(version) ? { AllowMajorVersionUpgrade: true } : {}),
      },
    });
  }
  scalar('allocatedStorage', desired.allocatedStorage, pending.AllocatedStorage ?? instance.AllocatedStorage, { AllocatedStorage: desired.allocatedStorage });
  scalar('storageType', desired.storageType, pending.StorageType ?? instance.StorageType, { StorageType: desired.storageType });
  scalar('iops', desired.iops, pending.Iops ?? instance.Iops, { Iops: desired.iops });
  scalar('multiAZ', desired.multiAZ, pending.MultiAZ ?? instance.MultiAZ, { MultiAZ: desired.multiAZ });
  scalar('backupRetentionPeriod', desired.backupRetentionPeriod, pending.BackupRetentionPeriod ?? instance.BackupRetentionPeriod, {
    BackupRetentionPeriod: desired.backupRetentionPeriod,
  });
  scalar('preferredBackupWindow', desired.preferredBackupWindow, instance.PreferredBackupWindow, { PreferredBackupWindow: desired.preferredBackupWindow });
  // AWS answers the maintenance window in lowercase whatever it was given.
  scalar('preferredMaintenanceWindow', desired.preferredMaintenanceWindow?.toLowerCase(), instance.PreferredMaintenanceWindow?.toLowerCase(), {
    PreferredMaintenanceWindow: desired.preferredMaintenanceWindow,
  });
  const parameterGroup = instance.DBParameterGroups?.[0]?.DBParameterGroupName;
  scalar('dbParameterGroupName', desired.dbParameterGroupName, parameterGroup, { DBParameterGroupName: desired.dbParameterGroupName });
  scalar('publiclyAccessible', desired.publiclyAccessible, instance.PubliclyAccessible ?? false, { PubliclyAccessible: desired.publiclyAccessible });
  scalar('deletionProtection', desired.deletionProtection, instance.DeletionProtection ?? false, { DeletionProtection: desired.deletionProtection });
  if (resolved.securityGroupIds !== undefined && resolved.securityGroupIds.length) {
    const current = (instance.VpcSecurityGroups ?? []).flatMap((group) => (group.VpcSecurityGroupId ? [group.VpcSecurityGroupId] : [])).sort();
    if (current.join(',') !== resolved.securityGroupIds.join(',')) {
      differences.push({
        field: 'vpcSecurityGroupIDs',
        detail: `${current.join(',') || 'none'} -> ${resolved.securityGroupIds.join(',')}`,
        modify: { VpcSecurityGroupIds: resolved.securityGroupIds },
      });
    }
  }
  const observedTags = rdsTagMap(instance.TagList);
  const tags = compareTags(desiredTags, userTags(observedTags));
  if (tags) differences.push({ field: 'tags', detail: tags });
  if (resolved.passwordVersion !== undefined && observedTags[PASSWORD_VERSION_TAG] !== resolved.passwordVersion) {
    // Words only: the value is never compared, logged or recorded.
    differences.push({ field: 'masterUserPassword', detail: observedTags[PASSWORD_VERSION_TAG] ? 'changed' : 'not set by this operator' });
  }
  return differences;
}

/** Readable form of a difference, as it appears in conditions and Events. */
export function formatDifference(difference: Difference): string {
  return `${difference.field}: ${difference.detail}`;
}

/** AWS's pending modifications as strings, the password's value (AWS masks it anyway) never among them. */
export function pendingModifications(instance: DBInstance): Record<string, string> {
  const pending: Record<string, string> = {};
  for (const [field, value] of Object.entries(instance.PendingModifiedValues ?? {})) {
    if (value === undefined || value === null) continue;
    pending[field] = field === 'MasterUserPassword' ? 'changing' : typeof value === 'object' ? JSON.stringify(value) : String(value);
  }
  return pending;
}

/** The status fields of an instance. */
export function instanceStatus(instance: DBInstance, desired: RDSInstanceSpec, uid: string): Observation['status'] {
  const status: Observation['status'] = {
    dbInstanceIdentifier: instance.DBInstanceIdentifier ?? '',
    dbInstanceStatus: instance.DBInstanceStatus ?? '',
    endpoint: instance.Endpoint?.Address ?? '',
    arn: instance.DBInstanceArn ?? '',
    engineVersion: instance.EngineVersion ?? '',
    pendingModifications: pendingModifications(instance),
  };
  const port = instance.Endpoint?.Port ?? instance.DbInstancePort;
  if (port) status.port = port;
  if (instance.DBSubnetGroup?.DBSubnetGroupName) status.dbSubnetGroupName = instance.DBSubnetGroup.DBSubnetGroupName;
  if (!desired.skipFinalSnapshot) status.finalSnapshotIdentifier = finalSnapshotIdentifier(desired.dbInstanceIdentifier, uid);
  return status;
}

async function describeInstance(rds: RDSClient, identifier: string): Promise<DBInstance | undefined> {
  const answer = await unlessNotFound(rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: identifier })), {
    notFound: ['DBInstanceNotFoundFault'],
  });
  return answer?.DBInstances?.[0];
}

/** The identifier to look up: the recorded one (AWS's lowercase form), else the spec's. */
function identifierOf(context: AwsContext, desired: RDSInstanceSpec): string {
  return context.awsID ?? desired.dbInstanceIdentifier;
}

/** Everything observe and update need to compare: references resolved, the password's version read. */
async function resolve(context: AwsContext, desired: RDSInstanceSpec, observeOnly: boolean): Promise<Resolved> {
  const groups = await securityGroupIds(context, desired);
  const password = observeOnly ? undefined : await masterPassword(context, desired);
  return { ...(groups ? { securityGroupIds: groups } : {}), ...(password ? { passwordVersion: password.version } : {}) };
}

/** True when the context carries no owner tags: an observe-only request, which never writes. */
function isObserveOnly(context: AwsContext): boolean {
  return ownership(context, context.tags).unmanaged === true;
}

function deletionProtected(identifier: string): Error {
  return Object.assign(
    new Error(
      `RDS instance ${identifier} has deletion protection on in AWS, so deletionPolicy Delete cannot remove it: ` +
        'set spec.deletionProtection: false and the operator turns it off and deletes the instance, or set deletionPolicy Retain to keep it',
    ),
    { name: DELETION_PROTECTED },
  );
}

/** A scalar status field as a connection detail; empty when unset. */
function text(value: Observation['status'][string] | undefined): string {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : '';
}

/** The RDSInstance handler. */
export const instanceHandler: ResourceHandler<RDSInstanceSpec> = {
  kind: 'RDSInstance',
  errorCodes: ERROR_CODES,

  async observe(context, desired) {
    const rds = context.client(RDSClient);
    const instance = await describeInstance(rds, identifierOf(context, desired));
    if (!instance?.DBInstanceIdentifier) return absent();
    const state = instance.DBInstanceStatus ?? 'unknown';
    const found = {
      id: instance.DBInstanceIdentifier,
      ...ownership(context, rdsTagMap(instance.TagList)),
      state,
      ...lifecycleOf(state),
      status: instanceStatus(instance, desired, context.resource.uid),
    };
    if (context.deleting) return present({ ...found, differences: [], ready: false });
    // Changes wait until AWS has finished the last one: it refuses most modifications meanwhile.
    const differences =
      state === 'available' ? compareInstance(desired, instance, await resolve(context, desired, isObserveOnly(context)), context.tags) : [];
    return present({ ...found, differences: differences.map(formatDifference), ready: USABLE.has(state) });
  },

  async create(context, desired) {
    const rds = context.client(RDSClient);
    const [password, VpcSecurityGroupIds, DBSubnetGroupName] = await Promise.all([
      masterPassword(context, desired),
      securityGroupIds(context, desired),
      subnetGroupName(context, desired),
    ]);
    try {
      // The identifier is the idempotency key: a retried create meets
      // DBInstanceAlreadyExists and checks the tags, which came with the
      // first call, so even a crash right after it is recognised as ours.
      await rds.send(
        new CreateDBInstanceCommand({
          DBInstanceIdentifier: desired.dbInstanceIdentifier,
          DBInstanceClass: desired.dbInstanceClass,
          Engine: desired.engine,
          EngineVersion: desired.engineVersion,
          AllocatedStorage: desired.allocatedStorage,
          StorageType: desired.storageType,
          Iops: desired.iops,
          StorageEncrypted: desired.storageEncrypted,
          KmsKeyId: desired.kmsKeyID,
          MasterUsername: desired.masterUsername,
          MasterUserPassword: password.value,
          DBName: desired.dbName,
          MultiAZ: desired.multiAZ,
          BackupRetentionPeriod: desired.backupRetentionPeriod,
          PreferredBackupWindow: desired.preferredBackupWindow,
          PreferredMaintenanceWindow: desired.preferredMaintenanceWindow,
          VpcSecurityGroupIds,
          DBSubnetGroupName,
          DBParameterGroupName: desired.dbParameterGroupName,
          PubliclyAccessible: desired.publiclyAccessible,
          DeletionProtection: desired.deletionProtection,
          Tags: rdsTagList({ ...context.tags, [PASSWORD_VERSION_TAG]: password.version }),
        }),
      );
      return;
    } catch (error) {
      if (errorName(error) !== 'DBInstanceAlreadyExistsFault') throw error;
    }
    const existing = await describeInstance(rds, desired.dbInstanceIdentifier);
    const tags = rdsTagMap(existing?.TagList);
    assertNotOwnedByAnother(context, `RDS instance ${desired.dbInstanceIdentifier}`, tags);
    if (ownership(context, tags).unmanaged) throw alreadyExists(`RDS instance ${desired.dbInstanceIdentifier}`, ADOPT_BY_NAME_HINT);
    // Ours from an earlier attempt; observe compares it with the spec next.
  },

  async update(context, desired) {
    const rds = context.client(RDSClient);
    // Read again: the observation holds words, not the tag keys to remove, and an activity retry may hand it an old one.
    const instance = await describeInstance(rds, identifierOf(context, desired));
    if (!instance?.DBInstanceArn || !instance.DBInstanceIdentifier) return; // Gone: the next observe says so.
    if (instance.DBInstanceStatus !== 'available') return; // Busy: observe waits until it is available again.
    const password = await masterPassword(context, desired);
    const resolved: Resolved = { ...(await resolve(context, desired, true)), passwordVersion: password.version };
    const differences = compareInstance(desired, instance, resolved, context.tags);
    const modify: Partial<ModifyDBInstanceCommandInput> = {};
    for (const difference of differences) Object.assign(modify, difference.modify);
    const passwordChanges = differences.some((difference) => difference.field === 'masterUserPassword');
    if (passwordChanges) modify.MasterUserPassword = password.value;
    if (Object.keys(modify).length) {
      await rds.send(
        new ModifyDBInstanceCommand({
          ...modify,
          DBInstanceIdentifier: instance.DBInstanceIdentifier,
          ApplyImmediately: desired.applyImmediately ?? true,
        }),
      );
    }
    // Last, so the version names a password AWS has accepted.
    await reconcileRdsTags(rds, instance.DBInstanceArn, { ...context.tags, [PASSWORD_VERSION_TAG]: password.version }, rdsTagMap(instance.TagList));
  },

  async delete(context, desired) {
    const rds = context.client(RDSClient);
    const identifier = identifierOf(context, desired);
    const instance = await describeInstance(rds, identifier);
    if (!instance) return 'Deleted';
    if (instance.DBInstanceStatus === 'deleting') return 'Deleting';
    if (instance.DeletionProtection) {
      // Only an explicit false in the spec turns protection off: protection set in AWS by hand is a decision too.
      if (desired.deletionProtection !== false) throw deletionProtected(identifier);
      await rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: identifier, DeletionProtection: false, ApplyImmediately: true }));
    }
    const snapshot = desired.skipFinalSnapshot ? undefined : finalSnapshotIdentifier(desired.dbInstanceIdentifier, context.resource.uid);
    try {
      await rds.send(
        new DeleteDBInstanceCommand({
          DBInstanceIdentifier: identifier,
          ...(snapshot ? { FinalDBSnapshotIdentifier: snapshot } : { SkipFinalSnapshot: true }),
        }),
      );
    } catch (error) {
      const name = errorName(error);
      if (name === 'DBInstanceNotFoundFault') return 'Deleted';
      // Protection turned on since the look above.
      if (name === 'InvalidParameterCombination' && desired.deletionProtection !== false) throw deletionProtected(identifier);
      throw error;
    }
    return 'Deleting';
  },

  async connectionDetails(context, desired, observed) {
    const password = await masterPassword(context, desired);
    const details: Record<string, string> = {
      endpoint: text(observed.status.endpoint),
      port: text(observed.status.port),
      username: desired.masterUsername,
      password: password.value,
      engine: desired.engine,
      arn: text(observed.status.arn),
      region: context.region,
    };
    if (desired.dbName) details.dbName = desired.dbName;
    return details;
  },
};
