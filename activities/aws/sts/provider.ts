/**
 * AWSProvider: no AWS resource of its own. "Observe" validates the
 * credentials with STS GetCallerIdentity, which is what makes a provider
 * Ready; its resync interval re-validates them.
 */
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { AWSProviderSpec } from '../../../crds/kinds/aws-provider.js';
import type { ResourceHandler } from '../handler.js';

export const providerHandler: ResourceHandler<AWSProviderSpec> = {
  kind: 'AWSProvider',
  async observe(context) {
    const identity = await context.client(STSClient).send(new GetCallerIdentityCommand({}));
    return {
      exists: true,
      upToDate: true,
      ready: true,
      differences: [],
      status: {
        accountID: identity.Account ?? '',
        callerIdentity: identity.Arn ?? '',
        region: context.region,
      },
    };
  },
  async create() {},
  async update() {},
  async delete() {
    return 'Deleted';
  },
};
