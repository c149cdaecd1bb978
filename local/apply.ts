/**
 * `npm run apply -- <file> [--send-sample-events]`: applies a file of segments and destinations
 * (examples/cushion-reminder.json is one) to the running CDP through its API, as a team would
 * from CI, and optionally sends the file's sample events with the development write key.
 */
import { readFile } from 'node:fs/promises';
import { toolArguments } from './cli-args.js';
import { readEndpointsFile } from './endpoints-file.js';
import { localSettings } from './settings.js';

const { values, positionals } = toolArguments({
  usage: 'npm run apply -- <file.json> [--send-sample-events] [--url http://127.0.0.1:4000]',
  help: `
Reads {"segments": {"<id>": {...}}, "destinations": {"<id>": {...}}, "sampleEvents": [...]} and
PUTs each segment and destination to the CDP's API (segments first, so destinations can name
them). With --send-sample-events it then waits for the segments to be ready (their backfill
done) and sends sampleEvents as one batch.

  --url URL              the API (default: the running local CDP, from CDP_DATA_DIR)
  --send-sample-events   send the file's sampleEvents after applying

Reads CDP_ADMIN_TOKEN (default dev-admin-token) and CDP_WRITE_KEY (default dev-write-key).`,
  options: { url: { type: 'string' }, 'send-sample-events': { type: 'boolean' } },
  positionals: true,
});

try {
  if (positionals.length !== 1) throw new Error('name one file to apply');
  const file = JSON.parse(await readFile(positionals[0]!, 'utf8')) as { segments?: Record<string, unknown>; destinations?: Record<string, unknown>; sampleEvents?: unknown[] };
  const settings = localSettings();
  const url = values.url ?? (await readEndpointsFile(settings.dataDir)).api;
  const admin = { authorization: `Bearer ${settings.adminToken}`, 'content-type': 'application/json' };
  let failed = false;
  const put = async (kind: 'segments' | 'destinations', id: string, body: unknown): Promise<void> => {
    const response = await fetch(`${url}/v1/${kind}/${encodeURIComponent(id)}`, { method: 'PUT', headers: admin, body: JSON.stringify(body) });
    const text = await response.text();
    if (response.ok) console.log(`${kind.slice(0, -1)} ${id}: ${response.status === 201 ? 'created' : 'updated'}`);
    else {
      failed = true;
      console.error(`${kind.slice(0, -1)} ${id}: ${response.status} ${text}`);
    }
  };
  for (const [id, body] of Object.entries(file.segments ?? {})) await put('segments', id, body);
  for (const [id, body] of Object.entries(file.destinations ?? {})) await put('destinations', id, body);
  if (values['send-sample-events'] && file.sampleEvents?.length && !failed) {
    // A new segment first backfills from the lake; events sent before it is ready are decided by that backfill, seconds later.
    for (const id of Object.keys(file.segments ?? {})) {
      const deadline = Date.now() + 120_000;
      for (;;) {
        const segment = (await (await fetch(`${url}/v1/segments/${encodeURIComponent(id)}`, { headers: admin })).json()) as { status?: string };
        if (segment.status === 'ready') break;
        if (Date.now() > deadline) throw new Error(`segment ${id} is still ${segment.status ?? 'unknown'} after 2 minutes`);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      console.log(`segment ${id}: ready`);
    }
    const response = await fetch(`${url}/v1/batch`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${settings.writeKey}:`).toString('base64')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ batch: file.sampleEvents }),
    });
    if (response.ok) console.log(`sample events: ${file.sampleEvents.length} sent`);
    else {
      failed = true;
      console.error(`sample events: ${response.status} ${await response.text()}`);
    }
  }
  process.exit(failed ? 1 : 0);
} catch (error) {
  console.error(`apply failed: ${(error as Error).message}`);
  process.exit(1);
}
