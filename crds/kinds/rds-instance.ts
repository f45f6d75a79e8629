import { Type, type Static } from '@sinclair/typebox';
import { ageColumn, defineKind, localReference, phaseColumn, providerReference, readyColumn, reasonColumn } from '../kind.js';
import {
  ConnectionSecretRef,
  DeletionPolicySchema,
  LocalRef,
  ProviderRef,
  SecretKeyRef,
  StringEnum,
  StringMap,
  Tags,
  commonStatusProperties,
  immutable,
} from '../schema.js';

/**
 * RDS identifiers as AWS stores them: AWS lowercases whatever it is given,
 * so only the lowercase form is accepted, and status and spec always agree.
 */
export const RdsIdentifier = Type.String({ minLength: 1, maxLength: 63, pattern: '^[a-z](-?[a-z0-9]+)*$' });

/** A backup window, `hh24:mi-hh24:mi` in UTC. */
const BackupWindow = Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]$' });
const DAY = '([Mm]on|[Tt]ue|[Ww]ed|[Tt]hu|[Ff]ri|[Ss]at|[Ss]un)';
const TIME = '([01][0-9]|2[0-3]):[0-5][0-9]';
/** A maintenance window, `ddd:hh24:mi-ddd:hh24:mi` in UTC. */
const MaintenanceWindow = Type.String({
  pattern: `^${DAY}:${TIME}-${DAY}:${TIME}$`,
});

export const RDSInstanceSpec = Type.Object({
  providerRef: ProviderRef,
  dbInstanceIdentifier: immutable(
    {
      ...RdsIdentifier,
      description:
        'name of the DB instance in AWS, unique per account and region: 1-63 lowercase letters, digits and hyphens, starting with a letter, no two hyphens in a row, not ending with one. Fixed at creation',
    },
    'dbInstanceIdentifier',
  ),
  dbInstanceClass: Type.String({ minLength: 1, description: 'compute and memory class, e.g. db.t3.medium; changing it is applied as a modification' }),
  engine: immutable(
    StringEnum(['postgres', 'mysql', 'mariadb', 'oracle-ee', 'oracle-se2', 'sqlserver-ee', 'sqlserver-se', 'sqlserver-ex', 'sqlserver-web'] as const, {
      description: 'database engine: postgres, mysql, mariadb, oracle-*, sqlserver-*. Fixed at creation',
    }),
    'engine',
  ),
  engineVersion: Type.Optional(
    Type.String({
      minLength: 1,
      description:
        'engine version, e.g. "14.7" or just "14" (any minor of it); unset lets AWS choose. Raising it is an upgrade (a major one is allowed when the spec asks for it); AWS cannot downgrade',
    }),
  ),
  allocatedStorage: Type.Optional(
    Type.Integer({ minimum: 5, maximum: 65536, description: 'storage in GiB; it can only grow (AWS cannot shrink it); unset lets AWS choose the engine default' }),
  ),
  storageType: Type.Optional(StringEnum(['standard', 'gp2', 'gp3', 'io1', 'io2'] as const, { description: 'storage type: gp2, gp3, io1, io2 or standard' })),
  iops: Type.Optional(Type.Integer({ minimum: 1000, description: 'provisioned IOPS; required for io1 and io2, optional for gp3 (400 GiB and up)' })),
  storageEncrypted: Type.Optional(
    immutable(Type.Boolean({ description: 'encrypt storage at rest; fixed at creation (AWS cannot encrypt an existing instance)' }), 'storageEncrypted'),
  ),
  kmsKeyID: Type.Optional(
    immutable(
      Type.String({ minLength: 1, description: 'KMS key (ID, ARN or alias) for storage encryption; unset uses the aws/rds key. Needs storageEncrypted. Fixed at creation' }),
      'kmsKeyID',
    ),
  ),
  masterUsername: immutable(
    Type.String({ minLength: 1, maxLength: 63, pattern: '^[A-Za-z][A-Za-z0-9_]*$', description: 'name of the master user. Fixed at creation' }),
    'masterUsername',
  ),
  masterUserPasswordSecretRef: Type.Optional(
    Type.Object(
      { name: SecretKeyRef.properties.name, key: SecretKeyRef.properties.key },
      {
        description:
      'the Secret key holding the master password. The operator reads it inside the activity that calls AWS; the value is never written to a workflow, log, Event or status. Changing the value in the Secret changes the password. Same namespace only',
      },
    ),
  ),
  masterUserPassword: Type.Optional(
    Type.String({
      minLength: 8,
      description:
        'deprecated: the master password written inline, accepted so older manifests apply. Anyone who can read this object can read it; use masterUserPasswordSecretRef. The operator never copies it anywhere but to AWS (a Warning Event InlineSecret is posted)',
    }),
  ),
  dbName: Type.Optional(
    immutable(Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z][A-Za-z0-9_]*$', description: 'database created with the instance. Fixed at creation' }), 'dbName'),
  ),
  multiAZ: Type.Optional(Type.Boolean({ description: 'keep a standby in a second availability zone' })),
  backupRetentionPeriod: Type.Optional(
    Type.Integer({ minimum: 0, maximum: 35, description: 'days of automated backups to keep, 0 to 35; 0 turns automated backups off' }),
  ),
  preferredBackupWindow: Type.Optional({
    ...BackupWindow,
    description: 'daily backup window, hh24:mi-hh24:mi in UTC, at least 30 minutes, not overlapping the maintenance window, e.g. 03:00-04:00',
  }),
  preferredMaintenanceWindow: Type.Optional({
    ...MaintenanceWindow,
    description: 'weekly maintenance window, ddd:hh24:mi-ddd:hh24:mi in UTC, at least 30 minutes, e.g. sun:04:00-sun:05:00',
  }),
  vpcSecurityGroupIDs: Type.Optional(
    Type.Array(Type.String({ pattern: '^sg-[0-9a-z]+$' }), {
      maxItems: 5,
      description: 'IDs of the VPC security groups of the instance, e.g. sg-0abc; combined with vpcSecurityGroupRefs. Unset (both): AWS uses the VPC default group',
    }),
  ),
  vpcSecurityGroupRefs: Type.Optional(
    Type.Array(LocalRef, { maxItems: 5, description: 'SecurityGroup custom resources to use; combined with vpcSecurityGroupIDs' }),
  ),
  dbSubnetGroupName: Type.Optional(
    immutable(
      Type.String({ minLength: 1, maxLength: 255, description: 'name of the DB subnet group (which VPC and subnets); or use dbSubnetGroupRef. Unset (both): the default VPC. Fixed at creation' }),
      'dbSubnetGroupName',
    ),
  ),
  dbSubnetGroupRef: Type.Optional(
    immutable({ ...LocalRef, description: 'the DBSubnetGroup custom resource to use; or use dbSubnetGroupName. Fixed at creation' }, 'dbSubnetGroupRef'),
  ),
  dbParameterGroupName: Type.Optional(
    Type.String({ minLength: 1, maxLength: 255, description: 'DB parameter group; unset uses the engine default. A change takes effect at the next reboot, as AWS applies it' }),
  ),
  publiclyAccessible: Type.Optional(Type.Boolean({ description: 'give the instance a public DNS name reachable from outside its VPC' })),
  deletionProtection: Type.Optional(
    Type.Boolean({
      description:
        'AWS refuses to delete the instance while true. With deletionPolicy Delete, deleting this object then waits (reason DeletionProtected) until this is set to false, which the operator applies before it deletes',
    }),
  ),
  skipFinalSnapshot: Type.Optional(
    Type.Boolean({
      default: false,
      description:
        'deletionPolicy Delete only: false (the default) takes a final snapshot, named <dbInstanceIdentifier>-final-<part of this object uid> (status.finalSnapshotIdentifier), before deleting; true deletes without one',
    }),
  ),
  applyImmediately: Type.Optional(
    Type.Boolean({
      default: true,
      description:
        'true (the default) applies modifications now, as AWS does with ApplyImmediately; false leaves the ones AWS can defer for the next maintenance window, shown in status.pendingModifications meanwhile. Password, deletion protection and backup retention changes always apply now',
    }),
  ),
  writeConnectionSecretToRef: Type.Optional(ConnectionSecretRef),
  tags: Type.Optional(Tags),
  deletionPolicy: Type.Optional(DeletionPolicySchema),
});
export type RDSInstanceSpec = Static<typeof RDSInstanceSpec>;

export const RDSInstanceStatus = Type.Object({
  ...commonStatusProperties,
  dbInstanceIdentifier: Type.Optional(Type.String({ description: 'RDS instance identifier' })),
  dbInstanceStatus: Type.Optional(Type.String({ description: 'AWS state: creating, available, modifying, backing-up, deleting…' })),
  endpoint: Type.Optional(Type.String({ description: 'DNS name to connect to (empty while creating)' })),
  port: Type.Optional(Type.Integer({ description: 'port to connect to' })),
  arn: Type.Optional(Type.String({ description: 'ARN of the instance' })),
  engineVersion: Type.Optional(Type.String({ description: 'engine version running' })),
  dbSubnetGroupName: Type.Optional(Type.String({ description: 'DB subnet group of the instance' })),
  pendingModifications: Type.Optional(
    StringMap({ description: 'modifications AWS has accepted and not applied yet (the next maintenance window, or now while modifying), by AWS field name' }),
  ),
  finalSnapshotIdentifier: Type.Optional(
    Type.String({ description: 'the final snapshot deletionPolicy Delete takes before deleting (unset with skipFinalSnapshot)' }),
  ),
});
export type RDSInstanceStatus = Static<typeof RDSInstanceStatus>;

export const RDSInstanceKind = defineKind({
  kind: 'RDSInstance',
  plural: 'rdsinstances',
  singular: 'rdsinstance',
  shortNames: ['rds'],
  description: 'an RDS DB instance (PostgreSQL, MySQL, MariaDB, Oracle, SQL Server)',
  spec: RDSInstanceSpec,
  status: RDSInstanceStatus,
  specRules: [
    {
      rule: 'has(self.masterUserPasswordSecretRef) != has(self.masterUserPassword)',
      message: 'set exactly one of masterUserPasswordSecretRef (recommended) or masterUserPassword',
    },
    { rule: '!(has(self.dbSubnetGroupName) && has(self.dbSubnetGroupRef))', message: 'set at most one of dbSubnetGroupName or dbSubnetGroupRef' },
    {
      rule: "!has(self.storageType) || !(self.storageType == 'io1' || self.storageType == 'io2') || has(self.iops)",
      message: 'storageType io1 and io2 need iops',
    },
    { rule: '!has(self.kmsKeyID) || (has(self.storageEncrypted) && self.storageEncrypted)', message: 'kmsKeyID needs storageEncrypted: true' },
  ],
  printerColumns: [
    { name: 'Identifier', type: 'string', jsonPath: '.status.dbInstanceIdentifier' },
    readyColumn,
    phaseColumn,
    { name: 'Status', type: 'string', jsonPath: '.status.dbInstanceStatus' },
    { name: 'Engine', type: 'string', jsonPath: '.spec.engine', priority: 1 },
    { name: 'Class', type: 'string', jsonPath: '.spec.dbInstanceClass', priority: 1 },
    { name: 'Endpoint', type: 'string', jsonPath: '.status.endpoint', priority: 1 },
    reasonColumn,
    ageColumn,
  ],
  identityField: 'dbInstanceIdentifier',
  secretFields: ['masterUserPassword'],
  secretNames: (spec) => (spec.masterUserPasswordSecretRef ? [spec.masterUserPasswordSecretRef.name] : []),
  references: (spec, namespace) => [
    providerReference(spec, namespace),
    ...localReference('DBSubnetGroup', spec.dbSubnetGroupRef, namespace),
    ...(spec.vpcSecurityGroupRefs ?? []).flatMap((ref) => localReference('SecurityGroup', ref, namespace)),
  ],
});
