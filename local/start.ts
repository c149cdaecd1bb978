import './node-support.js';
import { localSettings } from './settings.js';
import { startLocalRuntime } from './runtime.js';

const settings = localSettings();
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
const runtime = await startLocalRuntime(settings);

console.log(`CDP running locally (data in ${settings.dataDir})
  API          ${runtime.url}
  write key    ${settings.writeKey}
  admin token  ${settings.adminToken}
  endpoints    ${settings.dataDir}/endpoints.json

Try:
  curl -u ${settings.writeKey}: ${runtime.url}/v1/track -H 'content-type: application/json' \\
    -d '{"userId":"u1","event":"Signed Up"}'
  curl -H 'authorization: Bearer ${settings.adminToken}' ${runtime.url}/v1/profiles/user_id:u1
  npm run query -- "SELECT type, event, user_id FROM events LIMIT 10"
Ctrl-C stops cleanly.`);

let stopping = false;
const shutdown = (signal: string): void => {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping (finishing in-flight batches)...`);
  runtime
    .stop()
    .then(() => process.exit(0))
    .catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
};
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));
