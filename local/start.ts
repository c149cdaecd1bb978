import './node-support.js';
import { join, resolve } from 'node:path';
import { buildConsole } from '../console/build.js';
import { toolArguments } from './cli-args.js';
import { localSettings } from './settings.js';
import { startLocalRuntime } from './runtime.js';

toolArguments({
  usage: 'npm start',
  help: `
Runs the whole CDP on this machine: DynamoDB, Kinesis and S3 emulators, the intake and profile
API, the lake archiver, identity resolution and file imports, with the same handlers as AWS.
Data is kept in CDP_DATA_DIR; starting again carries on where it stopped.

Environment:
  CDP_DATA_DIR       where data is kept (default .cdp)
  CDP_PORT           API port (default 4000; 0 picks a free one)   CDP_HOST (default 127.0.0.1)
  CDP_WRITE_KEY      the development write key (default dev-write-key)
  CDP_ADMIN_TOKEN    the development admin token (default dev-admin-token)
  CDP_SHARDS         stream shards (default 2)
  CDP_PROFILE_CONFIG identity and profile rules as JSON (docs/identity.md)
  CDP_<CONSUMER>_BATCH_SIZE, CDP_<CONSUMER>_BATCH_WINDOW_MS   the archiver's and resolver's pollers

It stops cleanly on Ctrl-C, SIGTERM or SIGHUP, and when npm, which started it, goes away.`,
});

const configured = localSettings();
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
// The web console, built fresh into the data dir and served beside the API at /console.
const consoleBuild = buildConsole(join(configured.dataDir, 'console'));
const settings = { ...configured, staticSites: [...(configured.staticSites ?? []), { prefix: '/console', directory: consoleBuild.directory }] };
const runtime = await startLocalRuntime(settings);
// Tools find the runtime through its data dir: name it in the hints whenever it is not the default.
const dataDirPrefix = settings.dataDir === resolve('.cdp') ? '' : `CDP_DATA_DIR=${settings.dataDir} `;

console.log(`CDP running locally (data in ${settings.dataDir})
  API          ${runtime.url}
  console      ${runtime.url}/console/  (sign in with the admin token)
  write key    ${settings.writeKey}
  admin token  ${settings.adminToken}
  endpoints    ${settings.dataDir}/endpoints.json

Try:
  curl -u ${settings.writeKey}: ${runtime.url}/v1/track -H 'content-type: application/json' \\
    -d '{"userId":"u1","event":"Signed Up"}'
  # the profile appears about a second later, once the resolver has run:
  curl -H 'authorization: Bearer ${settings.adminToken}' ${runtime.url}/v1/profiles/user_id:u1
  ${dataDirPrefix}npm run query -- "SELECT type, event, user_id FROM events LIMIT 10"
  # a segment (docs/segments.md): people who signed up in the last day
  curl -X PUT -H 'authorization: Bearer ${settings.adminToken}' ${runtime.url}/v1/segments/new-sign-ups \\
    -H 'content-type: application/json' -d '{"name":"New sign-ups","condition":{"event":"Signed Up","within":"P1D"}}'
Ctrl-C stops cleanly.`);

let stopping = false;
const shutdown = (why: string): void => {
  if (stopping) return;
  stopping = true;
  console.log(`\n${why}: stopping (finishing in-flight batches)...`);
  runtime
    .stop()
    .then(() => process.exit(0))
    .catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
};
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => shutdown(signal));

// Started by `npm start`, the runtime lives as long as npm does: if npm is killed (even with
// SIGKILL, which it cannot pass on), a process manager or CI job that stopped it expects the
// server to go too, not to keep answering with no parent.
if (process.env.npm_lifecycle_event === 'start') {
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) shutdown('npm exited');
  }, 500).unref();
}
