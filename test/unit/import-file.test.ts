import { describe, expect, it } from 'vitest';
import { importResultKey, importSourceOf, isImportFile } from '../../lambdas/use-cases/import-file.js';

describe('import file selection', () => {
  // Names are matched without regard to case, in AWS too: the bucket notifies the importer of every object under imports/.
  it.each(['imports/a.ndjson', 'imports/crm/a.jsonl', 'imports/a.json', 'imports/pos/a.csv', 'imports/a.csv.gz', 'imports/pos/EXPORT.CSV', 'imports/a.NDJSON.GZ', 'imports/a.Jsonl', 'imports/a.json.gz'])('imports %s', (key) => {
    expect(isImportFile(key)).toBe(true);
  });

  it.each(['events/dt=2026-10-01/x.ndjson.gz', 'imports/a.txt', 'imports/a.csvx', 'imports/a.gz', 'imports/a.csv.result.json', importResultKey('imports/crm/a.json'), importResultKey('imports/A.CSV')])(
    'does not import %s',
    (key) => expect(isImportFile(key)).toBe(false),
  );

  it('never treats its own result object as a new import, whatever the input suffix', () => {
    for (const key of ['imports/a.ndjson', 'imports/a.json', 'imports/a.csv']) {
      expect(isImportFile(importResultKey(key))).toBe(false);
      expect(isImportFile(importResultKey(importResultKey(key)))).toBe(false);
    }
  });

  it('takes the source from the first folder under imports/', () => {
    expect(importSourceOf('imports/crm/a.csv')).toBe('crm');
    expect(importSourceOf('imports/a.csv')).toBe('import');
  });
});
