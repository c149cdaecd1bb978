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

/** One row of an import file as it is written, with what it holds (an event object, or nothing readable). */
export interface ImportFileRow {
  /** 1-based line the row starts on: what import results call its `index`. */
  readonly line: number;
  /** Physical lines it spans (a CSV record with quoted line breaks spans several). */
  readonly lines: number;
  readonly value?: unknown;
}

/**
 * An import file's rows (NDJSON lines, or CSV records after the header) with the lines they take,
 * so an erasure can blank a person's rows out of a file under `imports/` while every other row
 * keeps its line number (the one its import result names).
 */
export function importFileRows(text: string, csv: boolean): ImportFileRow[] {
  const lines = text.split(/\r?\n/);
  const rows: ImportFileRow[] = [];
  if (!csv) {
    lines.forEach((line, i) => {
      if (line.trim() === '') return;
      try {
        rows.push({ line: i + 1, lines: 1, value: JSON.parse(line) as unknown });
      } catch {
        rows.push({ line: i + 1, lines: 1 });
      }
    });
    return rows;
  }
  const assembler = new CsvRecordAssembler();
  let columns: CsvColumn[] | undefined;
  let header = true;
  let start = 1;
  lines.forEach((line, i) => {
    const fields = assembler.push(line);
    if (!fields) return;
    const row = { line: start, lines: i + 2 - start };
    start = i + 2;
    if (header) {
      header = false;
      try {
        columns = parseCsvHeader(fields);
      } catch {
        columns = undefined;
      }
      return;
    }
    if (fields.length === 1 && fields[0] === '') return;
    try {
      rows.push(columns ? { ...row, value: csvRowToEvent(columns, fields) } : row);
    } catch {
      rows.push(row);
    }
  });
  return rows;
}

/** The file's text with the given rows' lines left empty (an importer skips empty lines): no other row moves. */
export function blankRows(text: string, rows: readonly ImportFileRow[]): string {
  const lines = text.split(/(?<=\n)/);
  for (const row of rows) for (let i = row.line - 1; i < row.line - 1 + row.lines && i < lines.length; i++) lines[i] = lines[i]!.endsWith('\r\n') ? '\r\n' : lines[i]!.endsWith('\n') ? '\n' : '';
  return lines.join('');
}
