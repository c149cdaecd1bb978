import { Duration, type App } from 'aws-cdk-lib';
import { readFileSync } from 'node:fs';
import { parseDestinationsFile } from '../lambdas/domain/destinations.js';
import type { CdpStackProps } from './cdp-stack.js';

/**
 * Every CDK context key the app reads (`-c key=value` or cdk.json), and how it sets the stack.
 * docs/deploy.md documents each one; a test holds the two together.
 */
const ContextReaders = {
  stackName: () => ({}),
  streamCapacity: (value) => ({ streamCapacity: value === 'on-demand' ? 'on-demand' : 'provisioned' }),
  shardCount: (value) => ({ shardCount: Number(value) }),
  archiverBatchSize: (value) => ({ archiverBatchSize: Number(value) }),
  archiverBatchingWindowSeconds: (value) => ({ archiverBatchingWindow: Duration.seconds(Number(value)) }),
  resolverBatchSize: (value) => ({ resolverBatchSize: Number(value) }),
  resolverBatchingWindowSeconds: (value) => ({ resolverBatchingWindow: Duration.seconds(Number(value)) }),
  // `-c profileConfig='{"limits":{"email":3}}'` on the command line, or an object in cdk.json.
  profileConfig: (value) => ({ profileConfig: (typeof value === 'string' ? JSON.parse(value) : value) as Record<string, unknown> }),
  retainData: (value) => ({ retainData: String(value) !== 'false' }),
  alarmEmail: (value) => ({ alarmEmail: String(value) }),
  segmenterReservedConcurrency: (value) => ({ segmenterReservedConcurrency: Number(value) }),
  publisherReservedConcurrency: (value) => ({ publisherReservedConcurrency: Number(value) }),
  lakeRetentionDays: (value) => ({ lakeRetentionDays: Number(value) }),
  webConsole: (value) => ({ webConsole: String(value) !== 'false' }),
  // A file of destinations to deploy with the stack: `{ "destinations": { "<id>": {...} } }` (docs/activation.md).
  destinations: (value) => ({ destinations: parseDestinationsFile(JSON.parse(readFileSync(String(value), 'utf8')) as unknown, { allowLoopbackHttp: false }) }),
} satisfies Record<string, (value: unknown) => Partial<CdpStackProps>>;

export const ContextKeys = Object.keys(ContextReaders) as Array<keyof typeof ContextReaders>;

/** The stack's name and props from the app's context; keys not given keep the stack's defaults. */
export function stackFromContext(app: App): { stackName: string; props: CdpStackProps } {
  let props: CdpStackProps = {};
  for (const key of ContextKeys) {
    const value = app.node.tryGetContext(key) as unknown;
    if (value !== undefined) props = { ...props, ...ContextReaders[key](value) };
  }
  const stackName = app.node.tryGetContext('stackName') as unknown;
  return { stackName: typeof stackName === 'string' && stackName !== '' ? stackName : 'Cdp', props };
}
