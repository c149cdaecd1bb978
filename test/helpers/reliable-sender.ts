import { basicAuth } from './local-process.js';

/**
 * Sends batches the way the Segment and RudderStack SDKs do: the same body again, with backoff,
 * until the API answers 200. Returns how many attempts were refused or failed on the way.
 */
export async function sendUntilAccepted(
  url: string,
  events: ReadonlyArray<Record<string, unknown>>,
  options: { batchSize?: number; concurrency?: number; writeKey?: string } = {},
): Promise<{ retries: number; statuses: Record<number, number> }> {
  const batchSize = options.batchSize ?? 50;
  const batches: string[] = [];
  for (let i = 0; i < events.length; i += batchSize) batches.push(JSON.stringify({ batch: events.slice(i, i + batchSize) }));
  let next = 0;
  let retries = 0;
  const statuses: Record<number, number> = {};
  const worker = async (): Promise<void> => {
    while (next < batches.length) {
      const body = batches[next++]!;
      for (let attempt = 0; ; attempt++) {
        if (attempt > 30) throw new Error('a batch was never accepted');
        const response = await fetch(`${url}/v1/batch`, {
          method: 'POST',
          headers: { authorization: basicAuth(options.writeKey ?? 'dev-write-key'), 'content-type': 'application/json' },
          body,
        }).catch(() => undefined);
        const status = response?.status ?? 0;
        statuses[status] = (statuses[status] ?? 0) + 1;
        if (status === 200) break;
        if (status >= 400 && status < 500) throw new Error(`batch refused with ${status}: ${await response!.text()}`);
        retries++;
        await new Promise((r) => setTimeout(r, Math.min(2_000, 50 * 2 ** attempt)));
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 4 }, worker));
  return { retries, statuses };
}
