import { App } from 'aws-cdk-lib';
import { readFileSync } from 'node:fs';

/** A CDK app with the same feature flags as `cdk synth` (cdk.json), minus bundling, which keeps CDK tests fast. */
export function cdkApp(context: Record<string, unknown> = {}): App {
  const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as { context: object };
  return new App({ context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [], ...context } });
}
