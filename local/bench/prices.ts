/** us-east-1 prices, late 2026, from ../shared/reference/aws-cost.md. Re-check before publishing. */
export const Prices = {
  httpApiPerMillionRequests: 1.0,
  /** Each 512 KB of a request counts as one request. */
  httpApiRequestUnitBytes: 512 * 1024,
  kinesisShardHour: 0.015,
  kinesisPerMillionPutPayloadUnits: 0.014,
  kinesisPutPayloadUnitBytes: 25 * 1024,
  kinesisOnDemandStreamHour: 0.04,
  kinesisOnDemandPerGbIn: 0.08,
  kinesisOnDemandPerGbRead: 0.04,
  /** On-demand streams round each record up to 1 KB. */
  kinesisOnDemandRecordUnitBytes: 1024,
  lambdaPerMillionInvocations: 0.2,
  lambdaPerGbSecondArm: 0.0000133334,
  dynamoPerMillionWru: 0.625,
  dynamoPerMillionRru: 0.125,
  s3PerGbMonth: 0.023,
  s3PerThousandPut: 0.005,
  s3PerThousandGet: 0.0004,
  eventBridgePerMillionEntries: 1.0,
  cloudWatchLogsPerGbIngested: 0.5,
} as const;

export const HoursPerMonth = 730;
export const SecondsPerMonth = HoursPerMonth * 3600;

/** Published reference points per million events (aws-cost.md), for the report. */
export const Anchors = {
  theoreticalFloor: 0.11,
  awsGameAnalytics: 0.58,
  snowplowQuickStart: 0.77,
  naiveDesign: 0.86,
  commercialCdpLow: 10,
} as const;
