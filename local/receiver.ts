/**
 * `npm run receiver -- [--port 4100]`: a webhook endpoint on this machine that prints every
 * activation event it receives, one JSON line each, for trying destinations locally.
 */
import { toolArguments } from './cli-args.js';
import { startWebhookReceiver } from './webhook-receiver.js';

const { values } = toolArguments({
  usage: 'npm run receiver -- [--port 4100]',
  help: `
Listens on http://127.0.0.1:<port> and prints each event POSTed to it (any path) as one JSON
line: its detail-type, eventId, profile, segment and traits. Point a webhook destination at it.`,
  options: { port: { type: 'string' } },
});
const port = Number(values.port ?? 4100);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error('--port must be a port number');
  process.exit(2);
}
const receiver = await startWebhookReceiver({
  port,
  onDelivery: ({ path, event }) => {
    const { eventId, profileId, segmentId, traits } = event.detail;
    console.log(JSON.stringify({ path, type: event['detail-type'], eventId, profileId, ...(segmentId ? { segmentId } : {}), ...(traits ? { traits } : {}), at: event.detail.at }));
  },
});
console.error(`webhook receiver listening on ${receiver.url} (Ctrl-C to stop)`);
