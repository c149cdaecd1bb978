import type { JsonObject, JsonValue } from './json-safety.js';

/**
 * Splits CSV text into records per RFC 4180: quoted fields may hold commas, doubled quotes and
 * line breaks. Feed it physical lines; it answers a record when the quotes balance.
 */
export class CsvRecordAssembler {
  private pending: string | undefined;

  /** Adds one physical line; returns the completed record's fields, or undefined if a quoted field is still open. */
  push(line: string): string[] | undefined {
    const text = this.pending === undefined ? line : `${this.pending}\n${line}`;
    if (countQuotes(text) % 2 === 1) {
      this.pending = text;
      return undefined;
    }
    this.pending = undefined;
    return parseCsvRecord(text);
  }

  /** True when the input ended inside a quoted field. */
  get unterminated(): boolean {
    return this.pending !== undefined;
  }
}

function countQuotes(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 34) n++;
  return n;
}

export function parseCsvRecord(text: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c === '"') {
      quoted = true;
    } else if (c === ',') {
      fields.push(field);
      field = '';
    } else if (c !== '\r') {
      field += c;
    }
  }
  fields.push(field);
  return fields;
}

export type CsvColumnType = 'string' | 'number' | 'boolean' | 'json';

export interface CsvColumn {
  readonly header: string;
  /** Path into the event, e.g. ['traits', 'address', 'city']. */
  readonly path: readonly string[];
  readonly type: CsvColumnType;
}

const TopLevelColumns = new Set([
  'type', 'event', 'userId', 'anonymousId', 'messageId', 'timestamp', 'previousId', 'groupId', 'name', 'category',
]);
const NestedRoots = new Set(['traits', 'properties', 'context', 'integrations']);

/**
 * Reads the header row: `userId`, `type`, ... map to the event's top level; `traits.email`,
 * `properties.revenue:number`, `context.page.url` map into its objects. A `:number`, `:boolean`
 * or `:json` suffix sets how the cell is read (text by default).
 */
export function parseCsvHeader(fields: readonly string[]): CsvColumn[] {
  return fields.map((raw) => {
    const header = raw.trim();
    const [name = '', typeName = 'string'] = header.split(':');
    if (!['string', 'number', 'boolean', 'json'].includes(typeName)) {
      throw new Error(`column "${header}": unknown type "${typeName}" (use number, boolean or json)`);
    }
    const path = name.split('.');
    const root = path[0]!;
    const valid = path.length === 1 ? TopLevelColumns.has(root) : NestedRoots.has(root) && path.every((p) => p && p !== '__proto__');
    if (!valid) throw new Error(`column "${header}" is not a known field; see docs/api.md#csv-imports`);
    return { header, path, type: typeName as CsvColumnType };
  });
}

/** Builds an event object from one CSV record; empty cells are left out. Throws on a cell its type can't read. */
export function csvRowToEvent(columns: readonly CsvColumn[], fields: readonly string[]): JsonObject {
  if (fields.length !== columns.length) {
    throw new CsvCellError('', `row has ${fields.length} fields; the header has ${columns.length}`);
  }
  const event: JsonObject = {};
  columns.forEach((column, i) => {
    const cell = fields[i]!;
    if (cell === '') return;
    let target = event;
    for (const key of column.path.slice(0, -1)) {
      const next = target[key];
      target = (typeof next === 'object' && next !== null && !Array.isArray(next) ? next : (target[key] = {}));
    }
    target[column.path[column.path.length - 1]!] = readCell(column, cell);
  });
  return event;
}

export class CsvCellError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'CsvCellError';
  }
}

function readCell(column: CsvColumn, cell: string): JsonValue {
  const field = column.path.join('.');
  switch (column.type) {
    case 'string':
      return cell;
    case 'number': {
      const n = Number(cell);
      if (cell.trim() === '' || !Number.isFinite(n)) throw new CsvCellError(field, `"${cell}" is not a number`);
      return n;
    }
    case 'boolean':
      if (/^(true|1|yes)$/i.test(cell)) return true;
      if (/^(false|0|no)$/i.test(cell)) return false;
      throw new CsvCellError(field, `"${cell}" is not a boolean (true/false)`);
    case 'json':
      try {
        return JSON.parse(cell) as JsonValue;
      } catch {
        throw new CsvCellError(field, 'is not valid JSON');
      }
  }
}
