/**
 * AWS-side activities: the four verbs of the kind's handler, each wrapped so
 * an AWS error leaves as a Temporal failure of the right type.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { AwsActivities, AwsRequest } from '../../shared/activities.js';
import { FailureType, type FailureDetails } from '../../shared/failures.js';
import type { KubeClients } from '../kube/client.js';
import { awsContextFor, type AwsSettings } from './context.js';
import { ErrorClass, classifyAwsError, errorMessage, errorName, type ErrorCodes } from './errors.js';
import type { AwsContext, ResourceHandler } from './handler.js';
import { handlerFor } from './registry.js';

/**
 * Maps a thrown error to the failure the workflow understands. Terminal
 * failures are non-retryable so Temporal does not storm AWS with a request
 * that can only fail again; everything else is retried with backoff.
 */
export function toFailure(error: unknown, codes: ErrorCodes = {}): ApplicationFailure {
  if (error instanceof ApplicationFailure) return error;
  const name = errorName(error);
  const details: FailureDetails = { reason: name };
  const message = `${name}: ${errorMessage(error)}`;
  if (classifyAwsError(error, codes) === ErrorClass.Terminal) {
    return ApplicationFailure.create({ type: FailureType.Terminal, message, nonRetryable: true, details: [details] });
  }
  return ApplicationFailure.create({ type: FailureType.Retryable, message, details: [details] });
}

function activityHeartbeat(): void {
  Context.current().heartbeat();
}

export function awsActivities(
  clients: KubeClients,
  settings: AwsSettings,
  heartbeat: () => void = activityHeartbeat,
): AwsActivities {
  async function run<T>(
    request: AwsRequest,
    verb: (handler: ResourceHandler<never>, context: AwsContext, desired: never) => Promise<T>,
  ): Promise<T> {
    const handler = handlerFor(request.ref.kind);
    try {
      const context = await awsContextFor(clients, settings, request, heartbeat);
      return await verb(handler, context, request.spec as never);
    } catch (error) {
      throw toFailure(error, handler.errorCodes);
    }
  }
  return {
    observeResource: (request) => run(request, (handler, context, desired) => handler.observe(context, desired)),
    createResource: (request) => run(request, (handler, context, desired) => handler.create(context, desired)),
    updateResource: (request, observed) =>
      run(request, (handler, context, desired) => handler.update(context, desired, observed)),
    deleteResource: (request) => run(request, (handler, context, desired) => handler.delete(context, desired)),
  };
}
