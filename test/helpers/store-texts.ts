import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import type { Composition } from '../../lambdas/composition.js';
import { readObject } from '../../lambdas/use-cases/lake-rows.js';

/**
 * Every store of a local runtime read directly, as text, for tests that prove what is (or is not)
 * kept anywhere: the lake's objects, both tables' items, the runtime's own files.
 */

/** Every lake object's text, gunzipped. */
export async function lakeObjectTexts(c: Pick<Composition, 'lake'>): Promise<Map<string, string>> {
  const texts = new Map<string, string>();
  for await (const key of c.lake.listKeys('')) texts.set(key, (await readObject(c.lake, key))?.toString('utf8') ?? '');
  return texts;
}

/** Every item of both tables, as JSON text. */
export async function tableItemTexts(c: Pick<Composition, 'config' | 'clients'>): Promise<string[]> {
  const texts: string[] = [];
  for (const table of [c.config.profilesTable, c.config.credentialsTable]) {
    let start: Record<string, never> | undefined;
    do {
      const page = await c.clients.dynamodb.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
      // Profile state is deflated binary: inflate what can be, so values inside are seen.
      for (const item of page.Items ?? []) texts.push(JSON.stringify(item, (_k, v: unknown) => (v instanceof Uint8Array ? inflated(v) : v)));
      start = page.LastEvaluatedKey as typeof start;
    } while (start);
  }
  return texts;
}

function inflated(bytes: Uint8Array): string {
  try {
    return inflateRawSync(bytes).toString('utf8');
  } catch {
    return Buffer.from(bytes).toString('utf8');
  }
}

/** Every file of the local runtime's own stores (dead letters, the bus, checkpoints). */
export function fileTexts(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile())
    .map((path) => withDecodedRecords(readFileSync(path, 'utf8')));
}

/** Dead letters keep records as base64: decoded here, so values inside them are seen. */
const withDecodedRecords = (text: string): string =>
  text + [...text.matchAll(/"data":\s*"([A-Za-z0-9+/=]+)"/g)].map((m) => Buffer.from(m[1]!, 'base64').toString('utf8')).join('\n');
