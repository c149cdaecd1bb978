import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { DynamoDbDeadLetterStore } from '../../lambdas/adapters/aws/dynamodb-dead-letter-store.js';
import { DuckDbLakeQuery } from '../../local/duckdb-lake-query.js';
import { startLocalRuntime, type LocalRuntime, type RuntimeInstrumentation } from '../../local/runtime.js';
import { localSettings } from '../../local/settings.js';
import { eventually } from '../helpers/local-process.js';
import type { PeopleWorkload } from '../helpers/people-workload.js';

/** The whole local runtime in this process, with short batching windows so tests settle quickly. */
export async function startInProcess(
  instrument: RuntimeInstrumentation = {},
  env: Record<string, string> = {},
): Promise<LocalRuntime & { dataDir: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'cdp-faults-'));
  // Merges and drops are logged at INFO; the suite's output stays readable without them.
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  const settings = localSettings({
    CDP_DATA_DIR: dataDir,
    CDP_PORT: '0',
    CDP_RESOLVER_BATCH_WINDOW_MS: '200',
    CDP_ARCHIVER_BATCH_WINDOW_MS: '300',
    CDP_IMPORT_SCAN_MS: '60000',
    ...env,
  });
  const runtime = await startLocalRuntime(settings, instrument);
  return Object.assign(runtime, { dataDir });
}

export interface Outcome {
  readonly lakeRows: number;
  readonly lakeDistinct: number;
  readonly rawRows: number;
}

const admin = { authorization: 'Bearer dev-admin-token' };

/**
 * Waits until the lake's `events` view holds every workload event and every person's profile
 * shows exactly the true counts; fails on any overshoot (a double effect) straight away.
 */
export async function expectExactOutcome(runtime: LocalRuntime, workload: PeopleWorkload, timeoutMs = 60_000): Promise<Outcome> {
  const lake = new DuckDbLakeQuery({ s3Directory: runtime.endpoints.s3Directory, bucket: runtime.endpoints.lakeBucket });
  const total = workload.events.length;
  let outcome: Outcome = { lakeRows: 0, lakeDistinct: 0, rawRows: 0 };
  await eventually(async () => {
    const [row] = await lake.query(
      `SELECT count(*) AS n, count(DISTINCT message_id) AS d FROM events WHERE anonymous_id LIKE '${workload.prefix}%'`,
    );
    const [raw] = await lake.query(`SELECT count(*) AS n FROM raw_events WHERE anonymous_id LIKE '${workload.prefix}%'`);
    outcome = { lakeRows: Number(row!.n), lakeDistinct: Number(row!.d), rawRows: Number(raw!.n) };
    if (outcome.lakeRows > total) throw new Error(`the events view holds ${outcome.lakeRows} rows for ${total} events`);
    return outcome.lakeRows === total;
  }, timeoutMs, `${total} events in the lake`);
  expect(outcome.lakeDistinct).toBe(total);

  for (const person of workload.people) {
    let last: unknown;
    await eventually(async () => {
      const response = await fetch(`${runtime.url}/v1/profiles/user_id:${person.userId}`, { headers: admin });
      // 404 until the resolver got there; 5xx while an injected outage lasts.
      if (response.status !== 200) return false;
      const view = (await response.json()) as { identifiers: Array<{ type: string; value: string }>; computed: { event_counts: Record<string, number> } };
      last = view;
      const counts = view.computed.event_counts;
      for (const [name, n] of Object.entries(counts)) {
        if (n > (person.eventCounts[name] ?? 0)) throw new Error(`${person.userId} counts ${n} "${name}", truly ${person.eventCounts[name] ?? 0}: ${JSON.stringify(view)}`);
      }
      const devices = view.identifiers.filter((i) => i.type === 'anonymous_id').map((i) => i.value);
      return JSON.stringify(sorted(counts)) === JSON.stringify(sorted(person.eventCounts)) && person.devices.every((d) => devices.includes(d));
    }, timeoutMs, `the true counts on ${person.userId}`).catch((error: Error) => {
      throw new Error(`${error.message}; last view ${JSON.stringify(last)}`);
    });
  }
  return outcome;
}

/** Nothing was dead-lettered: neither by the pollers (the ESM's on-failure queue) nor by the resolver. */
export async function expectNoDeadLetters(runtime: LocalRuntime & { dataDir: string }): Promise<void> {
  const dlq = join(runtime.dataDir, 'dlq');
  const files = existsSync(dlq) ? readdirSync(dlq, { recursive: true }).filter((f) => String(f).endsWith('.json')) : [];
  expect(files).toEqual([]);
  const letters = [];
  for await (const letter of new DynamoDbDeadLetterStore(runtime.composition.clients.dynamodb, runtime.endpoints.profilesTable).list()) letters.push(letter);
  expect(letters).toEqual([]);
}

const sorted = (record: Readonly<Record<string, number>>): Array<[string, number]> =>
  Object.entries(record).sort(([a], [b]) => (a < b ? -1 : 1));
