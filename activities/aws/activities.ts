/**
 * AWS-side activities: the four verbs of the kind's handler, each wrapped so
 * an AWS error leaves as a Temporal failure of the right type.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { AwsActivities, AwsLocation, AwsRequest, JsonObject, Observation } from '../../contract/activities.js';
import { writeConnectionSecret } from '../kube/secrets.js';
import { FailureType, type FailureDetails } from '../../contract/failures.js';
import type { KubeClients } from '../../kube/client.js';
import { PassContexts, type AwsSettings } from './context.js';
import { ErrorClass, classifyAwsError, errorMessage, errorName, isUnreachable, isUnreadableAnswer, type ErrorCodes } from './errors.js';
import type { AwsContext } from './handler.js';
import { handlerFor, type RegisteredHandler } from './registry.js';

/** Where the calls of `context` go, for messages: the provider's endpoint, or AWS's own in its region. */
function endpointOf(context: AwsContext | undefined): string {
  if (!context) return 'AWS';
  return context.endpoint ?? `AWS in ${context.region}`;
}

/**
 * Maps a thrown error to the failure the workflow understands. Terminal
 * failures are non-retryable so Temporal does not storm AWS with a request
 * that can only fail again; everything else is retried with backoff.
 */
export function toFailure(error: unknown, codes: ErrorCodes = {}, context?: AwsContext): ApplicationFailure {
  if (error instanceof ApplicationFailure) return error;
  const name = errorName(error);
  const message = `${name}: ${errorMessage(error)}`;
  const errorClass = classifyAwsError(error, codes);
  if (errorClass === ErrorClass.Terminal) {
    const details: FailureDetails = { reason: name };
    return ApplicationFailure.create({ type: FailureType.Terminal, message, nonRetryable: true, details: [details] });
  }
  if (errorClass === ErrorClass.NotFound) {
    // Handlers answer "not found" of their own resource themselves; one that
    // escapes names something else the spec gave by ID, which is missing.
    const details: FailureDetails = { reason: 'DependencyNotFound', missingInAws: true };
    return ApplicationFailure.create({
      type: FailureType.DependencyNotReady,
      message: `waiting for an AWS resource the spec names to exist: ${message}`,
      nonRetryable: true,
      details: [details],
    });
  }
  if (isUnreachable(error)) {
    // Every call already tried three times with its own timeouts: say so in
    // status now (the workflow keeps backing off) rather than after the
    // activity's retries, minutes later.
    const details: FailureDetails = { reason: 'Unreachable' };
    return ApplicationFailure.create({
      type: FailureType.Retryable,
      message: `${endpointOf(context)} did not answer (${message})`,
      nonRetryable: true,
      details: [details],
    });
  }
  if (isUnreadableAnswer(error)) {
    const details: FailureDetails = { reason: 'UnreadableAnswer' };
    return ApplicationFailure.create({
      type: FailureType.Retryable,
      message: `${endpointOf(context)} answered something that is not a valid AWS response (${errorMessage(error).split('\n')[0]})`,
      details: [details],
    });
  }
  return ApplicationFailure.create({ type: FailureType.Retryable, message, details: [{ reason: name } satisfies FailureDetails] });
}

/**
 * Writes the connection Secret the spec asks for once the resource is Ready
 * and ours to describe; here, inside the activity, because its details may
 * hold a password that must not pass through the workflow.
 */
async function keepConnectionSecret(
  clients: KubeClients,
  handler: RegisteredHandler,
  context: AwsContext,
  request: AwsRequest,
  observed: Observation,
): Promise<void> {
  const target = (request.spec.writeConnectionSecretToRef as { name?: string } | undefined)?.name;
  if (!target || !handler.connectionDetails || request.deleting || !observed.exists || !observed.ready) return;
  // Another's resource, or one not adopted: nothing of it is this object's to hand out.
  if (observed.ownedBy !== undefined || (observed.unmanaged && !request.observeOnly)) return;
  const details = await handler.connectionDetails(context, request.spec, observed);
  await writeConnectionSecret(clients, context.resource, target, details);
}

/**
 * The account and region the workflow indexes the run by. An AWSProvider
 * reads no provider but itself, so its account is what its own observe found.
 */
function locationOf(context: AwsContext, observed: Observation): AwsLocation {
  const own = observed.status.accountID;
  const accountID = context.accountID ?? (typeof own === 'string' && own !== '' ? own : undefined);
  return { region: context.region, ...(accountID ? { accountID } : {}) };
}

function activityHeartbeat(): void {
  Context.current().heartbeat();
}

export function awsActivities(
  clients: KubeClients,
  settings: AwsSettings,
  heartbeat: () => void = activityHeartbeat,
): AwsActivities {
  const contexts = new PassContexts(clients, settings);
  async function run<T>(
    request: AwsRequest,
    verb: (handler: RegisteredHandler, context: AwsContext, desired: JsonObject) => Promise<T>,
  ): Promise<T> {
    let handler: RegisteredHandler | undefined;
    let context: AwsContext | undefined;
    try {
      handler = await handlerFor(request.ref.kind);
      context = await contexts.contextFor(request, heartbeat);
      return await verb(handler, context, request.spec);
    } catch (error) {
      contexts.forget(request);
      throw toFailure(error, handler?.errorCodes, context);
    }
  }
  return {
    observeResource: (request) =>
      run(request, async (handler, context, desired) => {
        let observed: Observation = await handler.observe(context, desired);
        if (request.createIfAbsent && handler.createsTagged && !observed.exists && !context.deleting) {
          const created = await handler.create(context, desired);
          observed = { ...(created ?? observed), created: true };
        }
        await keepConnectionSecret(clients, handler, context, request, observed);
        return { ...observed, location: locationOf(context, observed) };
      }),
    createResource: (request) =>
      run(request, async (handler, context, desired) => {
        const created = (await handler.create(context, desired)) ?? null;
        // The workflow skips its look at a resource create answered for, so
        // the connection Secret is written here then.
        if (created) await keepConnectionSecret(clients, handler, context, request, created);
        return created;
      }),
    updateResource: (request, observed) =>
      run(request, (handler, context, desired) => handler.update(context, desired, observed)),
    deleteResource: (request) => run(request, (handler, context, desired) => handler.delete(context, desired)),
  };
}
