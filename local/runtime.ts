import { mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import {
  archiveDependencies,
  compose,
  createClients,
  type Clients,
  importDependencies,
  ingestDependencies,
  isolatingResolveDependencies,
  segmenter,
  publisher,
  privacyWorker,
  apiExportLinks,
  prepareRuntime,
  streamTail,
  type Composition,
  type RuntimeConfig,
} from '../lambdas/composition.js';
import { hashSecret, type CredentialKind } from '../lambdas/domain/credentials.js';
import { CountedDeliveryOutcomes } from '../lambdas/adapters/local/counted-delivery-outcomes.js';
import { CountingTelemetry } from '../lambdas/adapters/local/counting-telemetry.js';
import { createArchiverHandler } from '../lambdas/handlers/archiver.js';
import { createImportHandler } from '../lambdas/handlers/importer.js';
import { createIngestHandler } from '../lambdas/handlers/ingest.js';
import { createResolverHandler } from '../lambdas/handlers/resolver.js';
import { createProfileApiHandler, profileApiDependencies } from '../lambdas/handlers/profiles.js';
import { createAdminAuthorizer } from '../lambdas/handlers/admin-authorizer.js';
import { createSegmentApiHandler, segmentApiDependencies } from '../lambdas/handlers/segments.js';
import { createSegmenterHandler } from '../lambdas/handlers/segmenter.js';
import { createDestinationApiHandler, destinationApiDependencies } from '../lambdas/handlers/destinations.js';
import { createPublisherHandler, type PublisherRunReport } from '../lambdas/handlers/publisher.js';
import { RepeatingTask } from './repeating-task.js';
import { ringOnOutboxWrites } from './outbox-doorbell.js';
import { createPrivacyApiHandler, privacyApiDependencies } from '../lambdas/handlers/privacy.js';
import { createSourceApiHandler, sourceApiDependencies } from '../lambdas/handlers/sources.js';
import { createPrivacyWorkerHandler } from '../lambdas/handlers/privacy-worker.js';
import type { PrivacyRunReport } from '../lambdas/use-cases/privacy-worker.js';
import { FileDeadLetterStore } from './file-dead-letter-store.js';
import { localPrivacySalt, privacySaltFile } from './privacy-salt.js';
import { LocalEventBus } from './local-bus.js';
import { join } from 'node:path';
import type { SegmenterReport } from '../lambdas/use-cases/segmenter.js';
import { Authenticator } from '../lambdas/use-cases/authenticate.js';
import { DuckDbLakeQuery } from './duckdb-lake-query.js';
import { StreamConsumers, UnmatchedRouteHandler, type HandlerName, type StreamConsumerName } from '../lambdas/contracts.js';
import { createLocalResources } from './bootstrap.js';
import { startEmulators, type Emulators } from './emulators.js';
import { writeEndpointsFile, type LocalEndpointsFile } from './endpoints-file.js';
import { createApiServer, listen } from './http-server.js';
import { ImportScanner } from './import-scanner.js';
import type { LocalSettings } from './settings.js';
import { StreamPoller, type ConsumerHandler } from './stream-poller.js';

/** Work per local segmentation run: short, so stopping is prompt; a run with more to do is followed at once by the next. */
const LocalSegmenterBudgetMs = 2_000;
/** Work per local publishing pass: short, so stopping is prompt; a pass with more to do is followed at once by the next. */
const LocalPublisherBudgetMs = 1_000;

/** Hooks for measuring the runtime (the benchmark): see what the handlers send and how long they run. */
export interface RuntimeInstrumentation {
  /** Called once with the SDK clients, e.g. to add counting middleware. */
  clients?(clients: Clients): void;
  /** Wraps each handler as it is wired, keyed by its Lambda's name. */
  handler?<H extends (event: never) => Promise<unknown>>(name: HandlerName, handler: H): H;
}

export interface LocalRuntime {
  readonly url: string;
  readonly settings: LocalSettings;
  readonly endpoints: LocalEndpointsFile;
  readonly composition: Composition;
  readonly telemetry: CountingTelemetry;
  readonly pollers: readonly StreamPoller[];
  /** Runs the segmentation function now, as its schedule would (tests use it to skip the wait). */
  runSegmenter(): Promise<SegmenterReport>;
  /** Runs the publisher now (one pass over the outbox), as its schedule or a doorbell would. */
  runPublisher(): Promise<PublisherRunReport>;
  /** Runs the privacy worker now (each open request as far as it can go). */
  runPrivacyWorker(): Promise<PrivacyRunReport>;
  /** The local EventBridge stand-in: destinations' routes, pending deliveries and dead letters. */
  readonly bus: LocalEventBus;
  stop(): Promise<void>;
}

/**
 * The whole CDP on one machine: emulators, resources, the API served from the route table
 * (lambdas/contracts.ts) by the same handlers, each stream consumer fed by an
 * event-source-mapping poller, and the import scanner.
 */
export async function startLocalRuntime(settings: LocalSettings, instrument: RuntimeInstrumentation = {}): Promise<LocalRuntime> {
  const wrap = <H extends (event: never) => Promise<unknown>>(name: HandlerName, handler: H): H => instrument.handler?.(name, handler) ?? handler;
  await mkdir(settings.dataDir, { recursive: true });
  const emulators: Emulators = await startEmulators(settings.dataDir);
  const config: RuntimeConfig = {
    streamName: settings.streamName,
    lakeBucket: settings.lakeBucket,
    credentialsTable: settings.credentialsTable,
    profilesTable: settings.profilesTable,
    profileConfig: settings.profileConfig,
    serviceName: 'cdp-local',
    local: emulators.endpoints,
    privacySalt: localPrivacySalt(privacySaltFile(settings.dataDir)),
    suppressionMaxAgeMs: settings.privacy.suppressionMaxAgeMs,
  };
  const clients = createClients(config);
  instrument.clients?.(clients);
  await createLocalResources(clients, settings);
  const telemetry = new CountingTelemetry();
  const composition = compose(config, { clients, telemetry });
  await prepareRuntime(composition.config);
  if (emulators.unfinishedObjectsRemoved.length > 0) {
    composition.logger.warn('removed objects whose upload was cut off when the runtime was killed; their writers send them again', { objects: emulators.unfinishedObjectsRemoved.length });
  }
  await seedCredential(composition, settings.writeKey, 'write', 'dev', 'Development source');
  await seedCredential(composition, settings.adminToken, 'admin', 'admin', 'Development admin token');

  // One poller per consumer of the table the stack deploys its event source mappings from.
  const consumerHandlers: Record<StreamConsumerName, ConsumerHandler> = {
    archiver: wrap('archiver', createArchiverHandler(archiveDependencies(composition))),
    resolver: wrap('resolver', createResolverHandler(isolatingResolveDependencies(composition, settings.segmentTiming))),
  };
  const pollers = (Object.keys(StreamConsumers) as StreamConsumerName[]).map(
    (name) =>
      new StreamPoller({
        consumer: name,
        handler: consumerHandlers[name],
        client: clients.kinesis,
        streamName: settings.streamName,
        dataDir: settings.dataDir,
        logger: composition.logger,
        batchSize: settings.consumers[name].batchSize,
        batchWindowMs: settings.consumers[name].batchWindowMs,
        maxRetryAttempts: settings.maxRetryAttempts,
      }),
  );
  await Promise.all(pollers.map((p) => p.start()));

  const scanner = new ImportScanner(
    composition.lake,
    settings.lakeBucket,
    wrap('importer', createImportHandler(importDependencies(composition))),
    composition.logger,
    settings.importScanIntervalMs,
  );
  scanner.start();

  const ingestHandler = wrap('ingest', createIngestHandler({
    ...ingestDependencies(composition),
    healthChecks: {
      stream: () => composition.stream.ping(),
      credentials: () => composition.credentials.ping(),
      profiles: () => composition.profiles.ping(),
      lake: () => composition.lake.ping(),
      consumers: async () => {
        const idle = pollers.filter((p) => !p.isReady);
        if (idle.length > 0) throw new Error(`${idle.length} stream consumers not running`);
      },
    },
  }));
  const lakeQuery = new DuckDbLakeQuery({ s3Directory: emulators.s3Directory, bucket: settings.lakeBucket });
  const profileHandler = wrap('profiles', createProfileApiHandler(profileApiDependencies(composition, lakeQuery, settings.segmentTiming)));
  const sourceHandler = wrap('sources', createSourceApiHandler(sourceApiDependencies({ ...composition, tail: streamTail(config, clients.kinesis), metrics: telemetry })));
  const segmentHandler = wrap('segments', createSegmentApiHandler(segmentApiDependencies(composition, lakeQuery, settings.segmentTiming)));

  // The segmentation function's schedule: one run at a time, again at once while work is waiting.
  const segmenterHandler = wrap('segmenter', createSegmenterHandler(segmenter(composition, lakeQuery, settings.segmentTiming), LocalSegmenterBudgetMs));
  const { run: runSegmenter, task: segmenterTask } = scheduled(segmenterHandler, settings.segmenterIntervalMs, 'segmentation run failed; the next run carries on', composition);

  // The bus and its publisher: the outbox feed to the destinations (docs/activation.md).
  const bus = new LocalEventBus({ directory: join(settings.dataDir, 'bus'), logger: composition.logger, telemetry, retry: settings.busRetry });
  await bus.start();
  const destinationHandler = wrap('destinations', createDestinationApiHandler(destinationApiDependencies(composition, { routing: bus, bus, deadLetters: bus, deliveries: new CountedDeliveryOutcomes(telemetry) })));
  const publisherHandler = wrap(
    'publisher',
    createPublisherHandler(publisher(composition, bus, { definitionsMaxAgeMs: settings.segmentTiming.definitionsMaxAgeMs }), LocalPublisherBudgetMs),
  );
  // Rung by every profile write that leaves changes in the outbox, as the table's stream rings it in AWS; the timer is the sweep.
  const { run: runPublisher, task: publisherTask } = scheduled(publisherHandler, settings.publisherIntervalMs, 'publishing failed; the next run carries on', composition);
  ringOnOutboxWrites(clients.dynamodb, settings.profilesTable, () => publisherTask.nudge());

  // Privacy requests: the API, and the worker on its schedule (docs/privacy.md).
  const privacyHandler = wrap('privacy', createPrivacyApiHandler(privacyApiDependencies(composition, apiExportLinks)));
  const privacyWork = privacyWorker(composition, {
    announcer: publisher(composition, bus, { definitionsMaxAgeMs: settings.segmentTiming.definitionsMaxAgeMs }),
    deliveries: [bus],
    deadLetters: [new FileDeadLetterStore(join(settings.dataDir, 'dlq'))],
    settleMs: settings.privacy.settleMs,
  });
  const privacyWorkerHandler = wrap('privacy-worker', createPrivacyWorkerHandler(privacyWork, LocalSegmenterBudgetMs));
  const { run: runPrivacyWorker, task: privacyTask } = scheduled(privacyWorkerHandler, settings.privacy.intervalMs, 'a privacy run failed; the next run carries on', composition);

  const server: Server = createApiServer({
    functions: { ingest: ingestHandler, profiles: profileHandler, segments: segmentHandler, destinations: destinationHandler, privacy: privacyHandler, sources: sourceHandler },
    adminAuthorizer: wrap('admin-authorizer', createAdminAuthorizer(new Authenticator(composition.credentials), composition.logger)),
    unmatched: UnmatchedRouteHandler,
    ...(settings.staticSites ? { staticSites: settings.staticSites } : {}),
  });
  const port = await listen(server, settings.port, settings.host);
  const url = `http://${settings.host}:${port}`;
  const endpoints: LocalEndpointsFile = {
    api: url,
    ...emulators.endpoints,
    s3Directory: emulators.s3Directory,
    streamName: settings.streamName,
    lakeBucket: settings.lakeBucket,
    credentialsTable: settings.credentialsTable,
    profilesTable: settings.profilesTable,
    privacySaltFile: privacySaltFile(settings.dataDir),
  };
  await writeEndpointsFile(settings.dataDir, endpoints);

  return {
    url,
    settings,
    endpoints,
    composition,
    telemetry,
    pollers,
    runSegmenter,
    runPublisher,
    runPrivacyWorker,
    bus,
    async stop() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await scanner.stop();
      await segmenterTask.stop();
      await publisherTask.stop();
      await privacyTask.stop();
      await bus.stop();
      await Promise.all(pollers.map((p) => p.stop()));
      for (const client of [clients.dynamodb, clients.kinesis, clients.s3]) client.destroy();
      await emulators.close();
    },
  };
}

/**
 * A scheduled function's local stand-in: one run at a time, as reserved concurrency 1 makes it in
 * AWS, whoever asks for it (the timer or a test), again at once while it reports more work.
 */
function scheduled<R extends { readonly more: boolean }>(
  handler: (event: unknown) => Promise<R>,
  intervalMs: number,
  failure: string,
  c: Pick<Composition, 'logger'>,
): { run: () => Promise<R>; task: RepeatingTask } {
  let last: Promise<unknown> = Promise.resolve();
  const run = (): Promise<R> => {
    const next = last.then(() => handler({}));
    last = next.catch(() => undefined);
    return next;
  };
  const task = new RepeatingTask(async () => (await run()).more, intervalMs, (error) => c.logger.error(failure, { error: String(error) }));
  task.start();
  return { run, task };
}

async function seedCredential(c: Composition, secret: string, kind: CredentialKind, sourceId: string, name: string): Promise<void> {
  await c.credentials.create({ keyHash: hashSecret(secret), kind, sourceId, name, createdAt: new Date().toISOString() });
}

/** How far the pipeline got, from the runtime's counters: events accepted, resolved into profiles, archived. */
export function pipelineProgress(runtime: Pick<LocalRuntime, 'telemetry'>): { accepted: number; resolved: number; archived: number } {
  const t = runtime.telemetry.snapshot();
  return {
    accepted: t.EventsAccepted ?? 0,
    resolved: (t.ProfileEventsApplied ?? 0) + (t.ProfileDuplicatesSkipped ?? 0) + (t.UnidentifiedEvents ?? 0),
    archived: t.EventsArchived ?? 0,
  };
}
