/** ARNs the operator can name without asking AWS. */

/** The partition of a region's ARNs: aws, aws-cn or aws-us-gov. */
export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/** `arn:<partition>:<service>:<region>:<account>:<resource>`. */
export function arnOf(service: string, region: string, accountID: string, resource: string): string {
  return `arn:${partitionOf(region)}:${service}:${region}:${accountID}:${resource}`;
}
