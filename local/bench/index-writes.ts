import type { TableDefinition } from '../../lambdas/contracts.js';

type AttributeValue = { S?: string; N?: string; B?: Uint8Array; [type: string]: unknown };
type Item = Record<string, AttributeValue>;

/** An item's entry in one index: its key, and its size as DynamoDB sizes it (names plus values). */
interface IndexEntry {
  readonly key: string;
  readonly bytes: number;
}

const attributeBytes = (name: string, value: AttributeValue | undefined): number => {
  if (!value) return 0;
  const raw = value.S ?? value.N ?? (value.B ? Buffer.from(value.B).toString('latin1') : JSON.stringify(value));
  return Buffer.byteLength(name) + Buffer.byteLength(String(raw));
};

/**
 * DynamoDB charges writes to a global secondary index on top of the table write: a put when an
 * item enters the index, a delete when it leaves, both when its index key changes, and an
 * update when a projected attribute changes; each 1 WRU per KB of the index entry. dynalite
 * reports only the table's units, so the benchmark keeps a shadow of every item's index entries
 * from the writes it sees (the run starts from an empty table) and adds these units.
 */
export class IndexWriteModel {
  /** Per item: the attributes any index reads, as the last write left them. */
  private readonly shadows = new Map<string, Item>();
  /** Index write units so far, per index. */
  readonly units = new Map<string, number>();
  private readonly relevant: ReadonlySet<string>;

  constructor(private readonly definition: TableDefinition) {
    this.relevant = new Set([
      definition.partitionKey.name,
      ...(definition.sortKey ? [definition.sortKey.name] : []),
      ...(definition.indexes ?? []).flatMap((i) => [i.partitionKey.name, ...(i.sortKey ? [i.sortKey.name] : []), ...(i.projected ?? [])]),
    ]);
  }

  /** A put (the whole item) or a delete (undefined). */
  written(key: Item, after: Item | undefined): void {
    const id = this.itemId(key);
    const before = this.shadows.get(id);
    const next = after ? Object.fromEntries(Object.entries({ ...key, ...after }).filter(([name]) => this.relevant.has(name))) : undefined;
    for (const index of this.definition.indexes ?? []) {
      const old = before && this.entryOf(index, before);
      const entry = next && this.entryOf(index, next);
      let units = 0;
      if (old && !entry) units = kb(old.bytes);
      else if (!old && entry) units = kb(entry.bytes);
      else if (old && entry) units = old.key !== entry.key ? kb(old.bytes) + kb(entry.bytes) : old.bytes !== entry.bytes || old.projected !== entry.projected ? kb(entry.bytes) : 0;
      if (units > 0) this.units.set(index.name, (this.units.get(index.name) ?? 0) + units);
    }
    if (next) this.shadows.set(id, next);
    else this.shadows.delete(id);
  }

  /** An update: attributes removed and set on what the shadow knows of the item. */
  updated(key: Item, removed: readonly string[], set: Item): void {
    const known: Item = { ...(this.shadows.get(this.itemId(key)) ?? {}) };
    for (const name of removed) delete known[name];
    this.written(key, { ...known, ...set });
  }

  get total(): number {
    let sum = 0;
    for (const units of this.units.values()) sum += units;
    return sum;
  }

  private itemId(key: Item): string {
    return `${key[this.definition.partitionKey.name]?.S ?? ''}|${this.definition.sortKey ? (key[this.definition.sortKey.name]?.S ?? '') : ''}`;
  }

  private entryOf(index: NonNullable<TableDefinition['indexes']>[number], item: Item): (IndexEntry & { projected: string }) | undefined {
    const pk = item[index.partitionKey.name];
    const sk = index.sortKey ? item[index.sortKey.name] : undefined;
    if (!pk || (index.sortKey && !sk)) return undefined;
    const tableKeys = [this.definition.partitionKey.name, ...(this.definition.sortKey ? [this.definition.sortKey.name] : [])];
    const names = [...new Set([...tableKeys, index.partitionKey.name, ...(index.sortKey ? [index.sortKey.name] : []), ...(index.projected ?? [])])];
    // An index entry carries about 100 bytes of overhead.
    const bytes = 100 + names.reduce((sum, name) => sum + attributeBytes(name, item[name]), 0);
    return { key: `${JSON.stringify(pk)}|${JSON.stringify(sk ?? null)}`, bytes, projected: JSON.stringify((index.projected ?? []).map((n) => item[n] ?? null)) };
  }
}

const kb = (bytes: number): number => Math.max(1, Math.ceil(bytes / 1024));

/** The attribute names an update expression removes, and those it sets to a plain value. */
export function updateEffects(input: {
  UpdateExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Item;
}): { removed: string[]; set: Item } {
  const names = input.ExpressionAttributeNames ?? {};
  const values = input.ExpressionAttributeValues ?? {};
  const resolve = (token: string): string => names[token] ?? token;
  const expression = input.UpdateExpression ?? '';
  const clause = (word: string): string => new RegExp(`\\b${word}\\s+(.*?)(?=\\b(?:SET|REMOVE|ADD|DELETE)\\b|$)`, 's').exec(expression)?.[1] ?? '';
  const removed = clause('REMOVE').split(',').map((t) => resolve(t.trim())).filter(Boolean);
  const set: Item = {};
  for (const assignment of clause('SET').split(',')) {
    const match = /^\s*([#\w]+)\s*=\s*(:\w+)\s*$/.exec(assignment);
    if (match && values[match[2]!]) set[resolve(match[1]!)] = values[match[2]!]!;
  }
  return { removed, set };
}
