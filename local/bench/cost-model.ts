import { FunctionMemoryMb, type HandlerName } from '../../lambdas/contracts.js';
import { HoursPerMonth, Prices, SecondsPerMonth } from './prices.js';

/** Everything the AWS bill is made of, counted during one run. */
export interface MeteredCounts {
  readonly events: number;
  readonly apiRequestUnits: number;
  readonly kinesisRecords: number;
  readonly kinesisPutPayloadUnits: number;
  /** Bytes in, each record rounded up to 1 KB (on-demand billing). */
  readonly kinesisOnDemandBytesIn: number;
  /** Stream consumers reading every record (shared throughput). */
  readonly streamConsumers: number;
  readonly lambda: Readonly<Partial<Record<HandlerName, { invocations: number; billedMs: number }>>>;
  readonly dynamoWru: number;
  readonly dynamoRru: number;
  readonly s3Puts: number;
  readonly s3Gets: number;
  readonly s3Lists: number;
  readonly s3BytesStored: number;
  readonly eventBridgeEntries: number;
  readonly logBytes: number;
}

export interface CostLine {
  readonly item: string;
  readonly usdPerMillion: number;
}

export interface CostReport {
  readonly lines: readonly CostLine[];
  /** Provisioned Kinesis, with shard-hours spread over the month's events at `eventsPerSecond`. */
  readonly totalUsdPerMillion: number;
  readonly totalUsdPerMillionOnDemand: number;
  readonly fixedMonthlyUsd: number;
  readonly fixedMonthlyUsdOnDemand: number;
  readonly lambdaGbSecondsPerMillion: number;
}

export interface PricingSettings {
  /** Sustained traffic the fixed costs are spread over. */
  readonly eventsPerSecond: number;
  readonly shards: number;
}

const GB = 1024 ** 3;

/** Prices a run's counts per million events (aws-cost.md), variable items plus fixed monthly costs at the given rate. */
export function priceRun(counts: MeteredCounts, settings: PricingSettings): CostReport {
  const perMillion = (amount: number): number => (amount / counts.events) * 1_000_000;
  let gbSeconds = 0;
  let invocations = 0;
  for (const [name, usage] of Object.entries(counts.lambda) as Array<[HandlerName, { invocations: number; billedMs: number }]>) {
    gbSeconds += (usage.billedMs / 1000) * (FunctionMemoryMb[name] / 1024);
    invocations += usage.invocations;
  }
  const monthlyEvents = settings.eventsPerSecond * SecondsPerMonth;
  const fixedMonthlyUsd = settings.shards * HoursPerMonth * Prices.kinesisShardHour;
  const fixedMonthlyUsdOnDemand = HoursPerMonth * Prices.kinesisOnDemandStreamHour;
  const common: CostLine[] = [
    { item: 'API Gateway HTTP API requests', usdPerMillion: perMillion(counts.apiRequestUnits) * (Prices.httpApiPerMillionRequests / 1e6) },
    { item: 'Lambda invocations', usdPerMillion: perMillion(invocations) * (Prices.lambdaPerMillionInvocations / 1e6) },
    { item: 'Lambda GB-seconds (arm64)', usdPerMillion: perMillion(gbSeconds) * Prices.lambdaPerGbSecondArm },
    { item: 'DynamoDB write units', usdPerMillion: perMillion(counts.dynamoWru) * (Prices.dynamoPerMillionWru / 1e6) },
    { item: 'DynamoDB read units', usdPerMillion: perMillion(counts.dynamoRru) * (Prices.dynamoPerMillionRru / 1e6) },
    { item: 'S3 PUT/LIST requests', usdPerMillion: perMillion(counts.s3Puts + counts.s3Lists) * (Prices.s3PerThousandPut / 1000) },
    { item: 'S3 GET requests', usdPerMillion: perMillion(counts.s3Gets) * (Prices.s3PerThousandGet / 1000) },
    { item: 'S3 storage (one month)', usdPerMillion: (perMillion(counts.s3BytesStored) / GB) * Prices.s3PerGbMonth },
    { item: 'EventBridge entries', usdPerMillion: perMillion(counts.eventBridgeEntries) * (Prices.eventBridgePerMillionEntries / 1e6) },
    { item: 'CloudWatch Logs ingestion', usdPerMillion: (perMillion(counts.logBytes) / GB) * Prices.cloudWatchLogsPerGbIngested },
  ];
  const provisioned: CostLine[] = [
    { item: 'Kinesis PUT payload units (provisioned)', usdPerMillion: perMillion(counts.kinesisPutPayloadUnits) * (Prices.kinesisPerMillionPutPayloadUnits / 1e6) },
    { item: `Kinesis shard-hours (${settings.shards} shard, at ${settings.eventsPerSecond} events/s)`, usdPerMillion: (fixedMonthlyUsd / monthlyEvents) * 1e6 },
  ];
  const onDemandBytesIn = perMillion(counts.kinesisOnDemandBytesIn) / GB;
  const onDemand: CostLine[] = [
    { item: 'Kinesis on-demand GB in', usdPerMillion: onDemandBytesIn * Prices.kinesisOnDemandPerGbIn },
    { item: 'Kinesis on-demand GB read', usdPerMillion: onDemandBytesIn * counts.streamConsumers * Prices.kinesisOnDemandPerGbRead },
    { item: `Kinesis on-demand stream-hours (at ${settings.eventsPerSecond} events/s)`, usdPerMillion: (fixedMonthlyUsdOnDemand / monthlyEvents) * 1e6 },
  ];
  const sum = (lines: readonly CostLine[]): number => lines.reduce((total, line) => total + line.usdPerMillion, 0);
  return {
    lines: [...common, ...provisioned, ...onDemand],
    totalUsdPerMillion: sum(common) + sum(provisioned),
    totalUsdPerMillionOnDemand: sum(common) + sum(onDemand),
    fixedMonthlyUsd,
    fixedMonthlyUsdOnDemand,
    lambdaGbSecondsPerMillion: perMillion(gbSeconds),
  };
}
