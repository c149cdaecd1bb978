import { AsyncLocalStorage } from 'node:async_hooks';
import type { HandlerName } from '../../lambdas/contracts.js';
import type { Clients } from '../../lambdas/composition.js';
import type { RuntimeInstrumentation } from '../runtime.js';
import { ProfilesTableDefinition } from '../../lambdas/contracts.js';
import { IndexWriteModel, updateEffects } from './index-writes.js';
import { Prices } from './prices.js';

/** DynamoDB operations that can report consumed capacity. */
const CapacityOperations = new Set([
  'GetItemCommand', 'PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'QueryCommand', 'ScanCommand', 'BatchGetItemCommand', 'BatchWriteItemCommand',
]);

type Capacity = { CapacityUnits?: number };
type Middleware = (next: (args: { input: Record<string, unknown> }) => Promise<{ output: Record<string, unknown> }>, context: { commandName?: string }) =>
  (args: { input: Record<string, unknown> }) => Promise<{ output: Record<string, unknown> }>;
interface MiddlewareClient {
  middlewareStack: { add(middleware: Middleware, options: { step: 'initialize'; name: string }): void };
}

/**
 * Counts every billable unit the handlers cause, as the AWS bill would: SDK calls per service
 * (with DynamoDB's consumed capacity asked for on every call), API requests, and each handler
 * invocation's duration.
 */
export class Meter {
  readonly calls = new Map<string, number>();
  apiRequestUnits = 0;
  kinesisRecords = 0;
  kinesisPutPayloadUnits = 0;
  kinesisOnDemandBytesIn = 0;
  dynamoWru = 0;
  dynamoRru = 0;
  readonly invocations = new Map<HandlerName, number[]>();
  /** The profiles table's index writes, which dynalite does not report (index-writes.ts). */
  readonly indexWrites = new IndexWriteModel(ProfilesTableDefinition);
  /** Which function a call comes from, so units can be told apart by function. */
  private readonly caller = new AsyncLocalStorage<HandlerName>();
  /** DynamoDB write units (table and index) by the function that caused them. */
  readonly writeUnitsByFunction = new Map<string, number>();
  /** DynamoDB capacity units by command, to see where they go. */
  readonly capacityByCommand = new Map<string, number>();
  /** Called after each resolver batch with the records' stream arrival times (ms). */
  onResolved?: (arrivals: readonly number[], doneAt: number) => void;

  instrumentation(): RuntimeInstrumentation {
    return {
      clients: (clients) => this.instrumentClients(clients),
      handler: (name, handler) => this.time(name, handler),
    };
  }

  constructor(private readonly profilesTable?: string) {}

  /** Table and index write units together, as the bill counts them. */
  get dynamoWriteUnits(): number {
    return this.dynamoWru + this.indexWrites.total;
  }

  count(service: string, command: string): number {
    return this.calls.get(`${service}.${command}`) ?? 0;
  }

  private instrumentClients(clients: Clients): void {
    const add = (
      service: string,
      client: unknown,
      before?: (command: string, input: Record<string, unknown>) => void,
      after?: (command: string, output: Record<string, unknown>, input: Record<string, unknown>) => void,
    ): void => {
      (client as MiddlewareClient).middlewareStack.add(
        (next, context) => async (args) => {
          const command = context.commandName ?? 'unknown';
          this.calls.set(`${service}.${command}`, (this.calls.get(`${service}.${command}`) ?? 0) + 1);
          before?.(command, args.input);
          const result = await next(args);
          after?.(command, result.output, args.input);
          return result;
        },
        { step: 'initialize', name: 'benchMeter' },
      );
    };
    add(
      'dynamodb',
      clients.dynamodb,
      (command, input) => {
        if (CapacityOperations.has(command)) input.ReturnConsumedCapacity = 'TOTAL';
      },
      (command, output, input) => {
        const indexBefore = this.indexWrites.total;
        if (this.profilesTable) this.modelIndexWrites(command, input);
        const fn = this.caller.getStore() ?? 'other';
        const consumed = output.ConsumedCapacity as Capacity | Capacity[] | undefined;
        const units = [consumed ?? []].flat().reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0);
        const isRead = ['GetItemCommand', 'QueryCommand', 'ScanCommand', 'BatchGetItemCommand'].includes(command);
        if (isRead) this.dynamoRru += units;
        else this.dynamoWru += units;
        const writes = (isRead ? 0 : units) + this.indexWrites.total - indexBefore;
        if (writes > 0) this.writeUnitsByFunction.set(fn, (this.writeUnitsByFunction.get(fn) ?? 0) + writes);
        this.capacityByCommand.set(command, (this.capacityByCommand.get(command) ?? 0) + units);
      },
    );
    add('kinesis', clients.kinesis, (command, input) => {
      if (command !== 'PutRecordsCommand') return;
      for (const record of (input.Records as Array<{ Data: Uint8Array }> | undefined) ?? []) {
        const bytes = record.Data.byteLength;
        this.kinesisRecords++;
        this.kinesisPutPayloadUnits += Math.max(1, Math.ceil(bytes / Prices.kinesisPutPayloadUnitBytes));
        this.kinesisOnDemandBytesIn += Math.max(1, Math.ceil(bytes / Prices.kinesisOnDemandRecordUnitBytes)) * Prices.kinesisOnDemandRecordUnitBytes;
      }
    });
    add('s3', clients.s3);
  }

  private modelIndexWrites(command: string, input: Record<string, unknown>): void {
    type Item = Parameters<IndexWriteModel['written']>[0];
    const table = input.TableName;
    if (command === 'PutItemCommand' && table === this.profilesTable) this.indexWrites.written(input.Item as Item, input.Item as Item);
    else if (command === 'DeleteItemCommand' && table === this.profilesTable) this.indexWrites.written(input.Key as Item, undefined);
    else if (command === 'UpdateItemCommand' && table === this.profilesTable) {
      const { removed, set } = updateEffects(input);
      this.indexWrites.updated(input.Key as Item, removed, set);
    } else if (command === 'BatchWriteItemCommand') {
      const requests = (input.RequestItems as Record<string, Array<{ PutRequest?: { Item: Item }; DeleteRequest?: { Key: Item } }>> | undefined)?.[this.profilesTable!] ?? [];
      for (const r of requests) {
        if (r.PutRequest) this.indexWrites.written(r.PutRequest.Item, r.PutRequest.Item);
        else if (r.DeleteRequest) this.indexWrites.written(r.DeleteRequest.Key, undefined);
      }
    }
  }

  private time<H extends (event: never) => Promise<unknown>>(name: HandlerName, handler: H): H {
    const durations = this.invocations.get(name) ?? [];
    this.invocations.set(name, durations);
    const timed = async (event: never): Promise<unknown> => {
      if (name === 'ingest') this.countApiRequest(event);
      const started = performance.now();
      try {
        return await this.caller.run(name, () => handler(event));
      } finally {
        durations.push(performance.now() - started);
        if (name === 'resolver' && this.onResolved) this.onResolved(arrivalsOf(event), Date.now());
      }
    };
    return timed as H;
  }

  private countApiRequest(event: unknown): void {
    const { body, isBase64Encoded } = event as { body?: string; isBase64Encoded?: boolean };
    const bytes = body ? Buffer.byteLength(body, isBase64Encoded ? 'base64' : 'utf8') : 0;
    this.apiRequestUnits += Math.max(1, Math.ceil(bytes / Prices.httpApiRequestUnitBytes));
  }

  /** Invocations and billed milliseconds (each invocation rounded up to 1 ms) per function. */
  lambdaUsage(): Partial<Record<HandlerName, { invocations: number; billedMs: number }>> {
    const usage: Partial<Record<HandlerName, { invocations: number; billedMs: number }>> = {};
    for (const [name, durations] of this.invocations) {
      if (durations.length === 0) continue;
      usage[name] = { invocations: durations.length, billedMs: durations.reduce((sum, ms) => sum + Math.ceil(ms), 0) };
    }
    return usage;
  }
}

function arrivalsOf(event: unknown): number[] {
  const records = (event as { Records?: Array<{ kinesis: { approximateArrivalTimestamp: number } }> }).Records ?? [];
  return records.map((r) => r.kinesis.approximateArrivalTimestamp * 1000);
}

/**
 * Counts (and keeps off the terminal) the JSON log lines the handlers write, which CloudWatch
 * Logs would ingest. Returns a function that stops counting and returns the bytes.
 */
export function captureLogs(): () => number {
  let bytes = 0;
  const original = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    if (/^\{"[a-z_]+":/.test(text)) {
      bytes += Buffer.byteLength(text);
      // Problems stay visible (on stderr); routine lines are only counted.
      if (/"level":"(WARN|ERROR|CRITICAL)"/.test(text)) process.stderr.write(text);
      return true;
    }
    return (original as (...args: unknown[]) => boolean)(chunk, ...rest);
  });
  return () => {
    process.stdout.write = original;
    return bytes;
  };
}
