#!/usr/bin/env node
import { App, Duration, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CdpStack } from '../lib/cdp-stack.js';

const app = new App();
const context = (key: string): string | undefined => app.node.tryGetContext(key) as string | undefined;
const number = (key: string): number | undefined => (context(key) === undefined ? undefined : Number(context(key)));

/** `-c profileConfig='{"limits":{"email":3}}'` on the command line, or an object in cdk.json. */
function profileConfig(): Record<string, unknown> | undefined {
  const value = app.node.tryGetContext('profileConfig') as unknown;
  if (value === undefined) return undefined;
  return (typeof value === 'string' ? JSON.parse(value) : value) as Record<string, unknown>;
}

new CdpStack(app, context('stackName') ?? 'Cdp', {
  streamCapacity: context('streamCapacity') === 'on-demand' ? 'on-demand' : 'provisioned',
  shardCount: number('shardCount'),
  archiverBatchSize: number('archiverBatchSize'),
  archiverBatchingWindow: number('archiverBatchingWindowSeconds') === undefined ? undefined : Duration.seconds(number('archiverBatchingWindowSeconds')!),
  resolverBatchSize: number('resolverBatchSize'),
  resolverBatchingWindow: number('resolverBatchingWindowSeconds') === undefined ? undefined : Duration.seconds(number('resolverBatchingWindowSeconds')!),
  profileConfig: profileConfig(),
  retainData: context('retainData') !== 'false',
  alarmEmail: context('alarmEmail'),
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
