import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { basicAuth, eventually, queryCommand, startRuntimeProcess, type RuntimeProcess } from '../helpers/local-process.js';

const Kills = 3;

describe('kill -9 of the whole local runtime, then a restart on the same data dir', () => {
  it(`${Kills} times during sustained ingestion: every acknowledged event is in the lake once and the counters equal the true counts`, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cdp-restart-'));
    const run = randomUUID();
    const acknowledged = new Set<string>();
    // A long batching window keeps acknowledged events unarchived when the process dies.
    const env = { CDP_ARCHIVER_BATCH_WINDOW_MS: '3000' };
    let runtime: RuntimeProcess = await startRuntimeProcess(dataDir, env);
    let batchNumber = 0;
    // Like an SDK, the sender keeps a batch that got no 200 and sends it again, unchanged, after the restart.
    let unacknowledged: string[] | undefined;

    const send = async (ids: string[]): Promise<boolean> => {
      const body = JSON.stringify({ batch: ids.map((messageId) => ({ type: 'track', event: 'Tick', anonymousId: `r-${run}`, messageId })) });
      const response = await fetch(`${runtime.url}/v1/batch`, {
        method: 'POST', headers: { authorization: basicAuth('dev-write-key'), 'content-type': 'application/json' }, body,
      }).catch(() => undefined);
      if (response?.status !== 200) return false;
      ids.forEach((id) => acknowledged.add(id));
      return true;
    };

    for (let kill = 0; kill < Kills; kill++) {
      let sending = true;
      const sender = (async () => {
        while (sending) {
          const ids = unacknowledged ?? Array.from({ length: 20 }, (_, i) => `${run}-${batchNumber}-${i}`);
          if (!unacknowledged) batchNumber++;
          unacknowledged = ids;
          if (!(await send(ids))) break;
          unacknowledged = undefined;
        }
      })();
      await new Promise((r) => setTimeout(r, 1200 + kill * 300));
      await runtime.kill('SIGKILL');
      sending = false;
      await sender;
      runtime = await startRuntimeProcess(dataDir, { CDP_ARCHIVER_BATCH_WINDOW_MS: '500' });
    }
    if (unacknowledged) expect(await send(unacknowledged)).toBe(true);
    expect(acknowledged.size).toBeGreaterThan(100);
    expect(acknowledged.size).toBe(batchNumber * 20);

    await eventually(async () => {
      const rows = await queryCommand(dataDir, `SELECT count(DISTINCT message_id) AS n FROM events WHERE anonymous_id = 'r-${run}'`);
      return Number(rows[0]!.n) === acknowledged.size;
    }, 30_000, 'every acknowledged event in the lake');
    const inLake = new Set((await queryCommand(dataDir, `SELECT message_id FROM events WHERE anonymous_id = 'r-${run}'`)).map((r) => String(r.message_id)));
    expect([...acknowledged].filter((id) => !inLake.has(id))).toEqual([]);
    const duplicates = await queryCommand(dataDir, `SELECT message_id, count(*) AS n FROM events WHERE anonymous_id = 'r-${run}' GROUP BY message_id HAVING count(*) > 1`);
    expect(duplicates).toEqual([]);

    // The profile counts each acknowledged event once, however often it was delivered or resent.
    let counted = 0;
    await eventually(async () => {
      const response = await fetch(`${runtime.url}/v1/profiles/anonymous_id:r-${run}`, { headers: { authorization: 'Bearer dev-admin-token' } });
      if (response.status !== 200) return false;
      counted = ((await response.json()) as { computed: { event_counts: Record<string, number> } }).computed.event_counts.Tick ?? 0;
      if (counted > acknowledged.size) throw new Error(`the profile counts ${counted} events, truly ${acknowledged.size}`);
      return counted === acknowledged.size;
    }, 30_000, `${acknowledged.size} events counted on the profile`);
    expect(await runtime.kill('SIGTERM')).toBe(0);
  }, 180_000);
});
