/**
 * Test doubles for handler tests: an AwsContext whose SDK clients answer from
 * a table the test writes, and errors shaped like the ones the SDK throws.
 * Handlers are tested through `send(command)` only, so a stub needs nothing
 * else of a client.
 */
import { ServiceException } from '@smithy/core/client';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType, type FailureDetails } from '../../contract/failures.js';
import { CLUSTER_TAG, OWNER_TAG, ownerTagValue } from '../../contract/identity.js';
import type { AwsContext, SecretValue } from './handler.js';

/** The cluster identity stub contexts carry. */
export const TEST_CLUSTER_ID = 'test-cluster';

/** The input a command was built with, as the handler passed it. */
export type CommandInput = Record<string, unknown>;

/**
 * How the stub answers one command: a function of the input (it may throw, or
 * return a value or a promise), an Error to reject with, or a value to return.
 */
export type StubResponse = ((input: CommandInput, callIndex: number) => unknown) | Error | object;

/** One `send` the handler made. */
export interface RecordedCall {
  command: string;
  input: CommandInput;
}

/** An AwsContext for tests, plus what the handler did with it. */
export interface StubContext extends AwsContext {
  /** Every command sent, in order, across all clients. */
  calls: RecordedCall[];
  /** How many times the handler reported liveness. */
  heartbeats: number;
  /** Inputs of every call to one command, e.g. `callsTo('PutBucketTaggingCommand')`. */
  callsTo(command: string): CommandInput[];
  /** Names of the commands sent, in order. */
  commandNames(): string[];
}

/** Fields of the context a test may set; the rest get plain defaults. */
export type StubContextOptions = Partial<Pick<AwsContext, 'resource' | 'region' | 'accountID' | 'tags' | 'deleting' | 'awsID'>> & {
  /** What `resolve` answers, keyed `Kind/namespace/name`; any other reference waits (DependencyNotReady). */
  resolved?: Record<string, string>;
  /** Secret values by `name/key`; any other key waits (DependencyNotReady), as a missing Secret does. */
  secrets?: Record<string, SecretValue>;
  /** Inline secret spec fields of the live object, by field name. */
  inlineSecrets?: Record<string, SecretValue>;
};

/**
 * An AwsContext whose `client(...)` returns a stub dispatching on
 * `command.constructor.name` (`'HeadBucketCommand'`). A command with no entry
 * in `responses` rejects, so a test fails loudly on a call it did not expect.
 */
export function stubContext(responses: Record<string, StubResponse>, options: StubContextOptions = {}): StubContext {
  const resource = options.resource ?? { kind: 'Test', namespace: 'default', name: 'test', uid: 'uid-1' };
  const calls: RecordedCall[] = [];
  const counts = new Map<string, number>();

  async function send(command: { input?: unknown }): Promise<unknown> {
    const name = command.constructor.name;
    const input = (command.input ?? {}) as CommandInput;
    calls.push({ command: name, input });
    const callIndex = counts.get(name) ?? 0;
    counts.set(name, callIndex + 1);
    if (!Object.hasOwn(responses, name)) throw new Error(`stub has no response for ${name}`);
    const response = responses[name];
    if (typeof response === 'function') return response(input, callIndex);
    if (response instanceof Error) throw response;
    // A copy, so a handler that mutates an answer cannot change the next one.
    return structuredClone(response);
  }

  const context: StubContext = {
    resource,
    region: options.region ?? 'us-east-1',
    accountID: options.accountID ?? '123456789012',
    tags: options.tags ?? { [OWNER_TAG]: ownerTagValue(resource), [CLUSTER_TAG]: TEST_CLUSTER_ID },
    ...(options.awsID !== undefined ? { awsID: options.awsID } : {}),
    client<C>(): C {
      return { send } as unknown as C;
    },
    heartbeat() {
      context.heartbeats += 1;
    },
    deleting: options.deleting ?? false,
    async resolve(ref, statusField) {
      const key = `${ref.kind}/${ref.namespace ?? resource.namespace}/${ref.name}`;
      const value = options.resolved?.[key];
      if (value === undefined) {
        throw ApplicationFailure.create({
          type: FailureType.DependencyNotReady,
          message: `waiting for ${key} (${statusField})`,
          nonRetryable: true,
          details: [{ reason: 'DependencyNotReady' }],
        });
      }
      return value;
    },
    async secret(ref) {
      const value = options.secrets?.[`${ref.name}/${ref.key}`];
      if (value === undefined) {
        throw ApplicationFailure.create({
          type: FailureType.DependencyNotReady,
          message: `waiting for key "${ref.key}" of Secret ${ref.name}`,
          nonRetryable: true,
          details: [{ reason: 'SecretNotFound' } satisfies FailureDetails],
        });
      }
      return value;
    },
    async inlineSecret(field) {
      return options.inlineSecrets?.[field];
    },
    calls,
    heartbeats: 0,
    callsTo: (command) => calls.filter((call) => call.command === command).map((call) => call.input),
    commandNames: () => calls.map((call) => call.command),
  };
  return context;
}

/** Answers successive calls with successive responses; the last one repeats. */
export function sequence(...responses: StubResponse[]): (input: CommandInput, callIndex: number) => unknown {
  return (input, callIndex) => {
    const response: StubResponse | undefined = responses[Math.min(callIndex, responses.length - 1)];
    if (typeof response === 'function') return (response as (input: CommandInput, callIndex: number) => unknown)(input, callIndex);
    if (response instanceof Error) throw response;
    return structuredClone(response);
  };
}

/** What an AWS error looks like apart from its name. */
export interface AwsErrorOptions {
  fault?: 'client' | 'server';
  /** HTTP status; defaults to 400 for client faults and 500 for server faults. */
  status?: number;
  message?: string;
}

/**
 * An error with the shape the SDK throws (`name`, `$fault`,
 * `$metadata.httpStatusCode`), built from the SDK's own ServiceException.
 */
export function awsError(name: string, options: AwsErrorOptions = {}): ServiceException {
  const fault = options.fault ?? 'client';
  return new ServiceException({
    name,
    $fault: fault,
    $metadata: { httpStatusCode: options.status ?? (fault === 'client' ? 400 : 500), attempts: 1 },
    message: options.message ?? name,
  });
}

/** The ApplicationFailure `promise` rejects with; fails the test if it resolves or rejects with anything else. */
export async function failure(promise: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await promise;
  } catch (error) {
    if (!(error instanceof ApplicationFailure)) throw new Error(`expected an ApplicationFailure, got ${String(error)}`, { cause: error });
    return error;
  }
  throw new Error('expected a failure');
}

/** The reason a failure carries for conditions and Events. */
export function reasonOf(error: ApplicationFailure): string | undefined {
  return (error.details?.[0] as FailureDetails | undefined)?.reason;
}
