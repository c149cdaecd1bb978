import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { TrinoSQL } from 'dt-sql-parser';

const trino = new TrinoSQL();

/**
 * What Athena (engine 3, Trino) would refuse in a statement, by Trino's ANTLR grammar: syntax
 * only (it knows no functions or tables), offline. Empty when the statement parses.
 */
export function trinoProblems(sql: string): string[] {
  return trino.validate(sql).map((error) => `line ${error.startLine}:${error.startColumn} ${error.message}`);
}

const root = resolve(import.meta.dirname, '../..');

/** A SQL example found in a document: where it is, and its text. */
export interface DocumentedSql {
  readonly where: string;
  readonly sql: string;
}

/**
 * Every SQL example in the README and docs/, so an example can never drift from what Athena
 * accepts: each statement of a ```sql block, and the SQL of each `npm run query -- "..."`
 * command in a shell block (the `--segment` and `--athena` forms included).
 */
export function documentedSql(files: readonly string[]): DocumentedSql[] {
  const found: DocumentedSql[] = [];
  for (const file of files) {
    const text = readFileSync(resolve(root, file), 'utf8');
    for (const block of text.matchAll(/```(sql|sh)\n([\s\S]*?)```/g)) {
      const line = text.slice(0, block.index).split('\n').length;
      if (block[1] === 'sql') {
        const statements = block[2]!
          .split('\n')
          .filter((l) => !l.trim().startsWith('--'))
          .join('\n')
          .split(';')
          .map((s) => s.trim())
          .filter(Boolean);
        for (const sql of statements) found.push({ where: `${file}:${line}`, sql });
      } else {
        for (const command of block[2]!.matchAll(/npm run query -- (?:--\w+ )*"((?:[^"\\]|\\.)*)"/g)) {
          found.push({ where: `${file}:${line}`, sql: command[1]!.replace(/\s*\n\s*/g, ' ') });
        }
      }
    }
  }
  return found;
}
