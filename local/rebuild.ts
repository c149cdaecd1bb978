/**
 * `npm run rebuild -- [--into TABLE] [--verify] [--aws]`: rebuilds the profiles from the lake,
 * the disaster-recovery path. It folds every event of the lake's `events` view, in arrival order,
 * through the same resolver the stream feeds, into an empty table.
 *
 *   --into TABLE  where to build (default: the profiles table, which must then be empty).
 *                 Locally the table is created if missing; in AWS it must exist.
 *   --verify      afterwards, compare the rebuilt people with the live profiles table.
 *   --aws         use the deployed stack: CDP_PROFILES_TABLE, CDP_ATHENA_WORKGROUP and
 *                 CDP_GLUE_DATABASE from the stack outputs, and the usual AWS credentials.
 *
 * Locally it reads the running runtime's emulators and lake ($CDP_DATA_DIR).
 */
import './node-support.js';
import { DynamoDbProfileStore } from '../lambdas/adapters/aws/dynamodb-profile-store.js';
import { AthenaLakeQuery } from '../lambdas/adapters/aws/athena-lake-query.js';
import { compose, prepareRuntime, configFromEnvironment, resolveDependencies } from '../lambdas/composition.js';
import { comparePeople } from '../lambdas/domain/profile-content.js';
import type { ProfileState } from '../lambdas/domain/profile.js';
import type { LakeQuery } from '../lambdas/ports/lake-query.js';
import { readSplits, rebuildProfiles, verifySplits, type SplitVerification } from '../lambdas/use-cases/rebuild.js';
import { createLocalResources } from './bootstrap.js';
import { DuckDbLakeQuery } from './duckdb-lake-query.js';
import { localRuntimeConfig, readEndpointsFile } from './endpoints-file.js';
import { formatDuration, progressReporter } from './progress.js';
import { toolArguments } from './cli-args.js';
import { localSettings } from './settings.js';

// Merges are logged at INFO by the resolver; an operator's tool shows its progress and problems.
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
const { values: options } = toolArguments({
  usage: 'npm run rebuild -- [--into TABLE] [--verify] [--aws]',
  help: `
Rebuilds every profile from the lake, the disaster-recovery path: each event of the events view,
in arrival order, goes through the same resolver the stream feeds, into an empty table.

  --into TABLE  where to build (default: the profiles table, which must then be empty);
                locally the table is created if missing, in AWS it must exist
  --verify      afterwards, compare the rebuilt people with the live profiles table, and check
                that every split person stayed split
  --aws         use the deployed stack: CDP_PROFILES_TABLE, CDP_LAKE_BUCKET, CDP_ATHENA_WORKGROUP
                and CDP_GLUE_DATABASE from the stack outputs, and the usual AWS credentials

Admins' splits are replayed from the lake (identity/splits/), so split people stay split.

Locally it uses the running CDP's emulators and lake (CDP_DATA_DIR, default .cdp).`,
  options: { into: { type: 'string' }, verify: { type: 'boolean' }, aws: { type: 'boolean' } },
});

async function all(store: DynamoDbProfileStore): Promise<ProfileState[]> {
  const profiles: ProfileState[] = [];
  for await (const profile of store.scanLiveProfiles()) profiles.push(profile);
  return profiles;
}

try {
  const aws = options.aws === true;
  const settings = localSettings();
  const endpoints = aws ? undefined : await readEndpointsFile(settings.dataDir);
  const config = endpoints ? localRuntimeConfig(endpoints, 'cdp-rebuild') : configFromEnvironment();
  if (!config.profilesTable) throw new Error('set CDP_PROFILES_TABLE from the stack outputs');
  const into = options.into ?? config.profilesTable;
  const composition = compose({ ...config, profilesTable: into });
  await prepareRuntime(composition.config);
  if (endpoints) await createLocalResources(composition.clients, { ...settings, profilesTable: into });
  const target = composition.profiles;
  for await (const _ of target.scanLiveProfiles()) {
    throw new Error(`${into} already holds profiles; rebuild into an empty table (--into NAME)`);
  }

  let lake: LakeQuery;
  if (endpoints) lake = new DuckDbLakeQuery({ s3Directory: endpoints.s3Directory, bucket: endpoints.lakeBucket });
  else if (config.athena) lake = new AthenaLakeQuery(config.athena);
  else throw new Error('set CDP_ATHENA_WORKGROUP and CDP_GLUE_DATABASE from the stack outputs');

  if (!endpoints && !config.lakeBucket) throw new Error('set CDP_LAKE_BUCKET from the stack outputs (admins\' splits are kept there)');
  const splits = await readSplits(composition.lake);
  const report = progressReporter(`rebuilding ${into}`);
  const result = await rebuildProfiles(lake, resolveDependencies(composition), {
    splits,
    onProgress: ({ done, total, elapsedMs }) => report(done, total, elapsedMs),
  });
  console.error(`rebuilt ${into} from ${result.events.toLocaleString('en-US')} events and ${splits.length} splits in ${formatDuration(result.elapsedMs / 1000)}`);

  let verification: (ReturnType<typeof comparePeople> & { splits: SplitVerification }) | undefined;
  if (options.verify) {
    if (into === config.profilesTable) throw new Error('--verify compares with the live table; rebuild --into another table');
    const live = new DynamoDbProfileStore(composition.clients.dynamodb, config.profilesTable, composition.telemetry);
    verification = { ...comparePeople(await all(live), await all(target)), splits: await verifySplits(target, splits) };
    console.error(
      verification.onlyInA + verification.onlyInB === 0
        ? `verified: the ${verification.same} people in ${into} are the ${config.profilesTable} people`
        : `differs: ${verification.same} people identical, ${verification.onlyInA} only in ${config.profilesTable}, ${verification.onlyInB} only in ${into}\n` +
            `  for example, only in ${config.profilesTable}: ${JSON.stringify(verification.examples.onlyInA)}\n` +
            `  and only in ${into}: ${JSON.stringify(verification.examples.onlyInB)}`,
    );
    console.error(
      verification.splits.failed.length === 0
        ? `verified: all ${verification.splits.total} split people stayed split`
        : `split people merged again: ${verification.splits.failed.length} of ${verification.splits.total} (${verification.splits.failed.map((f) => `${f.into}: ${f.reason}`).join('; ')})`,
    );
  }
  console.log(JSON.stringify({ into, ...result, splits: splits.length, ...(verification ? { verification } : {}) }));
  const differs = verification !== undefined && (verification.onlyInA + verification.onlyInB > 0 || verification.splits.failed.length > 0);
  process.exit(differs ? 1 : 0);
} catch (error) {
  console.error(`rebuild failed: ${(error as Error).message}`);
  process.exit(1);
}
