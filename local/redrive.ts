/**
 * `npm run redrive -- [--consumer resolver|archiver] [--dry-run] [--aws]`: feeds dead letters back
 * to their consumers after a fix, and removes each letter once its records are processed.
 *
 * Locally it reads the running runtime's stores ($CDP_DATA_DIR/endpoints.json): the resolver's
 * isolated records in the profiles table, and the pollers' failed batches under `dlq/`. With
 * --aws it reads the deployed stack, with the usual AWS credential chain and these variables from
 * the stack outputs: CDP_PROFILES_TABLE (the resolver's isolated records), CDP_LAKE_BUCKET (for
 * the archiver), and, for the event source mappings' on-failure queues, CDP_STREAM_NAME with
 * CDP_RESOLVER_DLQ_URL and/or CDP_ARCHIVER_DLQ_URL (their batches are read back from the stream).
 */
import './node-support.js';
import { SQSClient } from '@aws-sdk/client-sqs';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { EventBridgeEventBus } from '../lambdas/adapters/aws/eventbridge-event-bus.js';
import { redriveQueueToBus } from '../lambdas/adapters/aws/destination-dead-letters.js';
import { redriveBusDeadLetters } from './local-bus.js';
import { join } from 'node:path';
import { StreamBatchDeadLetters } from '../lambdas/adapters/aws/stream-batch-dead-letters.js';
import { archiveDependencies, compose, prepareRuntime, configFromEnvironment, redriveConsumers, streamResolveDependencies } from '../lambdas/composition.js';
import type { DeadLetterStore } from '../lambdas/ports/dead-letter-store.js';
import { redriveDeadLetters, type LetterOutcome } from '../lambdas/use-cases/redrive.js';
import { localRuntimeConfig, readEndpointsFile } from './endpoints-file.js';
import { FileDeadLetterStore } from './file-dead-letter-store.js';
import { toolArguments } from './cli-args.js';
import { localSettings } from './settings.js';

// Merges are logged at INFO by the resolver; an operator's tool shows its progress and problems.
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
const { values: options } = toolArguments({
  usage: 'npm run redrive -- [--consumer resolver|archiver] [--destinations [--destination ID]] [--dry-run] [--aws]',
  help: `
Feeds dead letters back to their consumers after a fix, and removes each letter once its records
are processed (consumers are idempotent, so a letter redriven twice changes nothing more).

  --consumer NAME  only that consumer's letters (resolver or archiver)
  --destinations   activation events a destination gave up on, instead: locally the bus's dead
                   letters under bus/dead-letters/ go back to its pending deliveries (the running
                   CDP delivers them); with --aws the events in CDP_DESTINATIONS_DLQ_URL (stack
                   output DestinationsDeadLetterQueue, or a declared destination's queue) are put
                   back on the bus, CDP_EVENT_BUS_NAME, and deleted from the queue
  --destination ID only that destination's letters (local)
  --dry-run        list what would be redriven; change nothing
  --aws            the deployed stack, with the usual AWS credentials: CDP_PROFILES_TABLE (the
                   resolver's isolated records) and CDP_LAKE_BUCKET (for the archiver); for the
                   event source mappings' on-failure queues, CDP_STREAM_NAME with
                   CDP_RESOLVER_DLQ_URL and/or CDP_ARCHIVER_DLQ_URL (stack outputs)

Locally it reads the running CDP's stores (CDP_DATA_DIR, default .cdp): the resolver's isolated
records in the profiles table and the pollers' failed batches under dlq/.`,
  options: { consumer: { type: 'string' }, 'dry-run': { type: 'boolean' }, aws: { type: 'boolean' }, destinations: { type: 'boolean' }, destination: { type: 'string' } },
});

if (options.destinations) {
  try {
    const dryRun = options['dry-run'] === true;
    if (options.aws) {
      const queueUrl = process.env.CDP_DESTINATIONS_DLQ_URL;
      const busName = process.env.CDP_EVENT_BUS_NAME;
      if (!queueUrl || !busName) throw new Error('set CDP_DESTINATIONS_DLQ_URL and CDP_EVENT_BUS_NAME from the stack outputs');
      const moved = await redriveQueueToBus(new SQSClient({}), queueUrl, new EventBridgeEventBus(new EventBridgeClient({}), busName), dryRun);
      console.log(JSON.stringify({ redriven: moved, dryRun }));
    } else {
      const counts = await redriveBusDeadLetters(join(localSettings().dataDir, 'bus'), { dryRun, ...(options.destination ? { destination: options.destination } : {}) });
      for (const [destination, n] of Object.entries(counts)) console.error(`${dryRun ? 'would redrive' : 'redriven'.padEnd(13)} ${destination}: ${n} events`);
      console.log(JSON.stringify({ redriven: counts, dryRun }));
    }
    process.exit(0);
  } catch (error) {
    console.error(`redrive failed: ${(error as Error).message}`);
    process.exit(1);
  }
}

try {
  const aws = options.aws === true;
  const config = aws ? configFromEnvironment() : localRuntimeConfig(await readEndpointsFile(localSettings().dataDir), 'cdp-redrive');
  if (aws && !config.profilesTable) throw new Error('set CDP_PROFILES_TABLE (and CDP_LAKE_BUCKET) from the stack outputs');
  const composition = compose(config);
  await prepareRuntime(composition.config);
  const stores: DeadLetterStore[] = [composition.deadLetters];
  if (!aws) stores.push(new FileDeadLetterStore(join(localSettings().dataDir, 'dlq')));
  else {
    const queues = Object.fromEntries(
      Object.entries({ resolver: process.env.CDP_RESOLVER_DLQ_URL, archiver: process.env.CDP_ARCHIVER_DLQ_URL }).filter(([, url]) => url),
    ) as Record<string, string>;
    if (Object.keys(queues).length > 0) {
      if (!config.streamName) throw new Error('set CDP_STREAM_NAME to read the on-failure queues\' batches back from the stream');
      stores.push(new StreamBatchDeadLetters(new SQSClient({}), composition.clients.kinesis, config.streamName, queues));
    }
  }
  const consumers = redriveConsumers(streamResolveDependencies(composition), archiveDependencies(composition));
  const consumer = options.consumer;
  const report = await redriveDeadLetters(stores, consumers, {
    dryRun: options['dry-run'] === true,
    ...(consumer ? { consumer } : {}),
    onLetter: (outcome: LetterOutcome) =>
      console.error(`${outcome.status.padEnd(11)} ${outcome.consumer} ${outcome.key} (${outcome.records} records)${outcome.reason ? `: ${outcome.reason}` : ''}`),
  });
  console.log(JSON.stringify(report));
  process.exit(report.failed.length > 0 ? 1 : 0);
} catch (error) {
  console.error(`redrive failed: ${(error as Error).message}`);
  process.exit(1);
}
