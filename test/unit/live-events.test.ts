import { describe, expect, it } from 'vitest';
import { InMemoryObjectStore } from '../../lambdas/adapters/memory/in-memory-object-store.js';
import { noTelemetry, silentLogger } from '../../lambdas/adapters/silent-observability.js';
import type { StreamTail } from '../../lambdas/ports/stream-tail.js';
import { LiveEvents } from '../../lambdas/use-cases/live-events.js';
import { RejectionLog } from '../../lambdas/use-cases/rejection-log.js';

const start = Date.parse('2026-11-24T10:00:00Z');
const quietStream: StreamTail = { read: async (position) => ({ records: [], position }) };

async function refuse(log: RejectionLog, secondsFromStart: number, requestId: string): Promise<void> {
  await log.record({
    receivedAt: new Date(start + secondsFromStart * 1000),
    sourceId: 'web',
    requestId,
    channel: 'api',
    rejections: [{ issue: { field: 'event', reason: 'is required' }, payload: { type: 'track', userId: requestId } }],
  });
}

describe('the live view of refusals', () => {
  it('shows the last minute on a first read, then each later refusal once, even one that lands late', async () => {
    const lake = new InMemoryObjectStore();
    const log = new RejectionLog(lake, silentLogger, noTelemetry);
    let now = start + 100_000;
    const live = new LiveEvents({ stream: quietStream, lake, now: () => new Date(now) });
    await refuse(log, 30, 'too-old');
    await refuse(log, 45, 'in-the-minute');
    const first = await live.read();
    expect(first.events.map((e) => e.userId)).toEqual(['in-the-minute']);

    // A later refusal, and one received before the last read whose object landed only now.
    await refuse(log, 98, 'late');
    await refuse(log, 105, 'new');
    now = start + 110_000;
    const second = await live.read(first.cursor);
    expect(second.events.map((e) => e.userId)).toEqual(['new', 'late']);
    now = start + 112_000;
    expect((await live.read(second.cursor)).events).toEqual([]);
  });
});
