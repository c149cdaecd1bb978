import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { basicAuth, eventually, queryCommand, startRuntimeProcess } from '../helpers/local-process.js';

describe('restart on the same data dir', () => {
  it('loses no acknowledged event when killed with SIGKILL mid-ingestion, and stops cleanly on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cdp-restart-'));
    const run = randomUUID();
    const acknowledged = new Set<string>();
    // A long batching window keeps acknowledged events unarchived when the process dies.
    let runtime = await startRuntimeProcess(dataDir, { CDP_ARCHIVER_BATCH_WINDOW_MS: '3000' });

    for (let round = 0; round < 2; round++) {
      let sending = true;
      const sender = (async () => {
        for (let b = 0; sending; b++) {
          const ids = Array.from({ length: 20 }, (_, i) => `${run}-${round}-${b}-${i}`);
          const body = JSON.stringify({ batch: ids.map((messageId) => ({ type: 'track', event: 'Tick', anonymousId: `r-${run}`, messageId })) });
          const response = await fetch(`${runtime.url}/v1/batch`, {
            method: 'POST', headers: { authorization: basicAuth('dev-write-key'), 'content-type': 'application/json' }, body,
          }).catch(() => undefined);
          if (response?.status === 200) ids.forEach((id) => acknowledged.add(id));
          else break;
        }
      })();
      await new Promise((r) => setTimeout(r, 1500));
      await runtime.kill('SIGKILL');
      sending = false;
      await sender;
      runtime = await startRuntimeProcess(dataDir, { CDP_ARCHIVER_BATCH_WINDOW_MS: '500' });
    }
    expect(acknowledged.size).toBeGreaterThan(100);

    const archived = async (): Promise<Set<string>> =>
      new Set((await queryCommand(dataDir, `SELECT message_id FROM events WHERE anonymous_id = 'r-${run}'`)).map((r) => String(r.message_id)));
    await eventually(async () => {
      const inLake = await archived();
      return [...acknowledged].every((id) => inLake.has(id));
    }, 30_000, 'every acknowledged event in the lake');
    const duplicates = await queryCommand(dataDir, `SELECT message_id, count(*) AS n FROM events WHERE anonymous_id = 'r-${run}' GROUP BY message_id HAVING count(*) > 1`);
    expect(duplicates).toEqual([]);
    expect(await runtime.kill('SIGTERM')).toBe(0);
  });
});
