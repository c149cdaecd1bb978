import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CdpStack } from '../../lib/cdp-stack.js';
import { cdkApp } from '../helpers/cdk.js';
import { ContextKeys, stackFromContext } from '../../lib/context.js';

const guide = readFileSync(new URL('../../docs/deploy.md', import.meta.url), 'utf8');

/** The backticked names in the first column of the table under a `## heading` of the guide. */
function namesInTable(heading: string): string[] {
  const section = guide.split(/^## /m).find((s) => s.startsWith(heading));
  if (!section) throw new Error(`docs/deploy.md has no "## ${heading}" section`);
  return section
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .flatMap((line) => [...line.split('|')[1]!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!));
}

describe('docs/deploy.md matches the stack', () => {
  const app = cdkApp();
  const template = Template.fromStack(new CdpStack(app, 'Guide')).toJSON() as { Outputs: Record<string, unknown>; Parameters?: Record<string, unknown> };

  it('documents every stack output, and names no output the stack lacks', () => {
    expect(namesInTable('Outputs').sort()).toEqual(Object.keys(template.Outputs).sort());
  });

  it('documents every context key the app reads, and names no key it ignores', () => {
    expect(namesInTable('Parameters').sort()).toEqual([...ContextKeys].sort());
  });

  it('has no CloudFormation parameter beyond the bootstrap version, unless the guide names it', () => {
    const parameters = Object.keys(template.Parameters ?? {}).filter((name) => name !== 'BootstrapVersion');
    for (const name of parameters) expect(guide, name).toContain(`\`${name}\``);
  });

  it('turns each documented context key into the stack setting it names', () => {
    const withAll = new App({
      context: {
        stackName: 'Shop', streamCapacity: 'on-demand', shardCount: '3', archiverBatchSize: '500', archiverBatchingWindowSeconds: '30',
        resolverBatchSize: '200', resolverBatchingWindowSeconds: '1', profileConfig: '{"phoneRegion":"US"}', retainData: 'false', alarmEmail: 'ops@example.com',
        segmenterReservedConcurrency: '0', publisherReservedConcurrency: '0', destinations: 'test/fixtures/destinations.json',
      },
    });
    const { stackName, props } = stackFromContext(withAll);
    expect(stackName).toBe('Shop');
    const { destinations, ...rest } = props;
    expect({ ...rest, archiverBatchingWindow: props.archiverBatchingWindow?.toSeconds(), resolverBatchingWindow: props.resolverBatchingWindow?.toSeconds() }).toEqual({
      streamCapacity: 'on-demand', shardCount: 3, archiverBatchSize: 500, archiverBatchingWindow: 30, resolverBatchSize: 200, resolverBatchingWindow: 1,
      profileConfig: { phoneRegion: 'US' }, retainData: false, alarmEmail: 'ops@example.com', segmenterReservedConcurrency: 0, publisherReservedConcurrency: 0,
    });
    expect(destinations?.map((d) => d.destination.id)).toEqual(['crm', 'support-queue', 'merges']);
    expect(stackFromContext(new App()).props).toEqual({});
  });
});
