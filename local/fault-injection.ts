/**
 * Failure injection for the AWS SDK clients, for the fault suite: an SDK middleware that makes a
 * share of the calls fail the way AWS calls fail. It sits below the SDK's retry middleware, so the
 * SDK's own retries see each fault as they would see a real one. A fault "after" lets the call
 * reach the service and then loses the answer: the write happened but the caller can't know,
 * which is what makes duplicate effects possible.
 */
import type { DeserializeMiddleware, Pluggable } from '@smithy/types';

export type FaultKind = 'throttle' | 'server-error' | 'timeout-before' | 'timeout-after';

export const AllFaultKinds: readonly FaultKind[] = ['throttle', 'server-error', 'timeout-before', 'timeout-after'];

export interface FaultPlan {
  /** Share of calls that fail, 0 to 1: every round(1 / rate)-th eligible call, so a run is repeatable. */
  readonly rate: number;
  /** @default every kind */
  readonly kinds?: readonly FaultKind[];
}

/** Counts what was injected, per kind and command, so a test can show the faults happened. */
export class FaultInjector {
  /** Off, no call fails; `rate: 1` while on makes an outage of any length. */
  enabled = true;
  readonly injected = new Map<string, number>();
  calls = 0;
  private eligible = 0;
  private turn = 0;

  constructor(private readonly plan: FaultPlan) {}

  get total(): number {
    return [...this.injected.values()].reduce((a, b) => a + b, 0);
  }

  /** A plugin for `client.middlewareStack.use(...)`; it fits every client's input and output types. */
  plugin<Input extends object, Output extends object>(service: string): Pluggable<Input, Output> {
    return {
      applyToStack: (stack) => {
        stack.add(this.middleware<Input, Output>(service), { step: 'deserialize', name: `faultInjection-${service}`, priority: 'high' });
      },
    };
  }

  private middleware<Input extends object, Output extends object>(service: string): DeserializeMiddleware<Input, Output> {
    return (next, context) => async (args) => {
      const command = String(context.commandName ?? 'unknown');
      const kind = this.draw();
      if (kind === undefined) return next(args);
      const key = `${service}.${command}.${kind}`;
      this.injected.set(key, (this.injected.get(key) ?? 0) + 1);
      if (kind === 'timeout-after') {
        await next(args);
        throw injectedError(kind, service, command);
      }
      throw injectedError(kind, service, command);
    };
  }

  private draw(): FaultKind | undefined {
    this.calls++;
    if (!this.enabled) return undefined;
    if (this.plan.rate <= 0 || ++this.eligible % Math.max(1, Math.round(1 / this.plan.rate)) !== 0) return undefined;
    // Kinds take turns, so even a short run sees each of them.
    const kinds = this.plan.kinds ?? AllFaultKinds;
    return kinds[this.turn++ % kinds.length]!;
  }
}

/** Errors shaped like the SDK's own, so the SDK classifies them the way it classifies real ones. */
function injectedError(kind: FaultKind, service: string, command: string): Error {
  const where = `${service} ${command}`;
  switch (kind) {
    case 'throttle':
      return Object.assign(new Error(`injected throttling on ${where}`), {
        name: 'ThrottlingException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
      });
    case 'server-error':
      return Object.assign(new Error(`injected internal error on ${where}`), {
        name: 'InternalServerError',
        $fault: 'server',
        $metadata: { httpStatusCode: 500 },
      });
    default:
      return Object.assign(new Error(`injected timeout (${kind === 'timeout-after' ? 'answer lost' : 'no answer'}) on ${where}`), {
        name: 'TimeoutError',
      });
  }
}
