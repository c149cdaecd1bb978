import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { LakeLayout } from '../contracts.js';
import { CsvCellError, CsvRecordAssembler, csvRowToEvent, parseCsvHeader, type CsvColumn } from '../domain/csv.js';
import type { ValidationIssue } from '../domain/errors.js';
import { withHashedIdentifiers, type IdentityRules } from '../domain/identifiers.js';
import { toStreamRecord } from '../domain/intake.js';
import { admitEvent } from '../domain/intake-request.js';
import { parseWellFormedJson } from '../domain/json-safety.js';
import type { EventStream, StreamRecord } from '../ports/event-stream.js';
import type { AppLogger } from '../ports/logger.js';
import type { ObjectStore } from '../ports/object-store.js';
import type { Telemetry } from '../ports/telemetry.js';
import type { RejectionLog } from './rejection-log.js';

export interface ImportDependencies {
  readonly lake: ObjectStore;
  readonly stream: EventStream;
  readonly rejectionLog: RejectionLog;
  readonly telemetry: Telemetry;
  readonly logger: AppLogger;
  readonly now: () => Date;
  /** Identifier types stored hashed are hashed here, before the stream. @default nothing hashed */
  readonly identityRules?: IdentityRules;
}

export interface ImportResult {
  readonly file: string;
  readonly etag: string;
  readonly sourceId: string;
  readonly status: 'completed' | 'failed';
  readonly error?: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly rows: number;
  readonly accepted: number;
  readonly rejected: number;
  /** The first {@link MaxListedRejections} refused rows; all of them are in the `rejections` table. */
  readonly rejections: ValidationIssue[];
}

export const MaxListedRejections = 1000;
const FlushEvery = 500;
const ImportFilePattern = new RegExp(`(${LakeLayout.importFileSuffixes.map((suffix) => suffix.replace('.', '\\.')).join('|')})(\\.gz)?$`, 'i');

/**
 * True for files to import. Result objects end in `.json` too, so they are excluded by name:
 * otherwise each result would be imported as a file and yield a result of its own, for ever.
 */
export const isImportFile = (key: string): boolean =>
  key.startsWith(LakeLayout.importsPrefix) &&
  ImportFilePattern.test(key) &&
  !key.endsWith(LakeLayout.importResultSuffix);
export const importResultKey = (key: string): string => `${key}${LakeLayout.importResultSuffix}`;

/** `imports/<sourceId>/file.csv` imports as that source; a file directly under `imports/` as `import`. */
export function importSourceOf(key: string): string {
  const parts = key.slice(LakeLayout.importsPrefix.length).split('/');
  return parts.length > 1 && /^[A-Za-z0-9_-]{1,64}$/.test(parts[0]!) ? parts[0]! : 'import';
}

/**
 * Imports one file from `imports/`: each row goes through the intake's validation and stamping
 * into the stream; the outcome is written beside the file as `<file>.result.json`. Rows without a
 * messageId get one derived from the file's ETag and line, so importing the same file twice
 * yields the same messageIds and the lake and profiles count each row once.
 */
export async function importFile(key: string, deps: ImportDependencies): Promise<ImportResult | undefined> {
  const opened = await deps.lake.openRead(key);
  if (!opened) return undefined;
  const startedAt = deps.now();
  const sourceId = importSourceOf(key);
  const issues: ValidationIssue[] = [];
  const rejected: Array<{ issue: ValidationIssue; payload: unknown }> = [];
  let rows = 0;
  let accepted = 0;
  let pending: StreamRecord[] = [];
  const flush = async (): Promise<void> => {
    if (pending.length === 0) return;
    await deps.stream.put(pending);
    accepted += pending.length;
    pending = [];
  };
  const reject = async (issue: ValidationIssue, payload: unknown): Promise<void> => {
    if (issues.length < MaxListedRejections) issues.push(issue);
    rejected.push({ issue, payload });
    if (rejected.length >= FlushEvery) await flushRejections();
  };
  let rejectedCount = 0;
  let rejectionPart = 0;
  const flushRejections = async (): Promise<void> => {
    if (rejected.length === 0) return;
    rejectedCount += rejected.length;
    await deps.rejectionLog.record({
      receivedAt: startedAt,
      sourceId,
      requestId: `import:${key}:${opened.etag}:${rejectionPart++}`,
      channel: 'import',
      rejections: rejected.splice(0),
    });
  };

  let error: string | undefined;
  try {
    for await (const { line, event } of readRows(key, opened.body)) {
      rows++;
      if ('issue' in event) {
        await reject({ index: line, ...event.issue }, event.raw);
        continue;
      }
      const enriched = admitEvent(event.value, line, {
        receivedAt: deps.now(),
        sourceId,
        newMessageId: () => `import-${createHash('sha256').update(`${key}\n${opened.etag}\n${line}`).digest('hex').slice(0, 40)}`,
      });
      if (!enriched.ok) {
        for (const issue of enriched.issues) await reject(issue, event.value);
        continue;
      }
      pending.push(toStreamRecord(deps.identityRules ? withHashedIdentifiers(enriched.event, deps.identityRules) : enriched.event));
      if (pending.length >= FlushEvery) await flush();
    }
    await flush();
  } catch (caught) {
    error = (caught as Error).message;
    deps.logger.error('import failed part-way; rows already streamed stay, a retry re-sends them with the same messageIds', {
      file: key,
      error: caught,
    });
  }
  await flushRejections();
  deps.telemetry.count('ImportRowsAccepted', accepted);
  deps.telemetry.count('ImportRowsRejected', rejectedCount);
  const result: ImportResult = {
    file: key,
    etag: opened.etag,
    sourceId,
    status: error ? 'failed' : 'completed',
    ...(error ? { error } : {}),
    startedAt: startedAt.toISOString(),
    finishedAt: deps.now().toISOString(),
    rows,
    accepted,
    rejected: rejectedCount,
    rejections: issues,
  };
  await deps.lake.put({ key: importResultKey(key), body: JSON.stringify(result, null, 2), contentType: 'application/json' });
  return result;
}

type Row = { line: number; event: { value: unknown } | { issue: Omit<ValidationIssue, 'index'>; raw: string } };

/** Yields the file's rows with their 1-based line numbers (for CSV, the line a record starts on). */
async function* readRows(key: string, body: Readable): AsyncGenerator<Row> {
  const text = /\.gz$/i.test(key) ? body.pipe(createGunzip()) : body;
  const lines = createInterface({ input: text, crlfDelay: Infinity });
  const csv = /\.csv(\.gz)?$/i.test(key);
  let columns: CsvColumn[] | undefined;
  const assembler = new CsvRecordAssembler();
  let lineNumber = 0;
  let recordStart = 1;
  for await (const line of lines) {
    lineNumber++;
    if (!csv) {
      if (line.trim() === '') continue;
      try {
        yield { line: lineNumber, event: { value: parseWellFormedJson(line) } };
      } catch {
        yield { line: lineNumber, event: { issue: { field: '', reason: 'line is not valid JSON' }, raw: line } };
      }
      continue;
    }
    const fields = assembler.push(line);
    if (!fields) continue;
    const start = recordStart;
    recordStart = lineNumber + 1;
    if (!columns) {
      columns = parseCsvHeader(fields);
      continue;
    }
    if (fields.length === 1 && fields[0] === '') continue;
    try {
      yield { line: start, event: { value: csvRowToEvent(columns, fields) } };
    } catch (error) {
      const field = error instanceof CsvCellError ? error.field : '';
      yield { line: start, event: { issue: { field, reason: (error as Error).message }, raw: fields.join(',') } };
    }
  }
  if (assembler.unterminated) {
    yield { line: recordStart, event: { issue: { field: '', reason: 'file ends inside a quoted field' }, raw: '' } };
  }
}
