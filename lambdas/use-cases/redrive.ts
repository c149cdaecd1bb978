import type { DeadLetterStore } from '../ports/dead-letter-store.js';
import type { DeliveredRecord } from '../ports/event-stream.js';

/** Processes one dead letter's records again; throws when they still fail. */
export type RedriveConsumer = (records: readonly DeliveredRecord[]) => Promise<void>;

export interface RedriveOptions {
  /** Only this consumer's letters. @default all */
  readonly consumer?: string;
  /** List what would be redriven, change nothing. @default false */
  readonly dryRun?: boolean;
  /** Called after each letter, for progress. */
  readonly onLetter?: (outcome: LetterOutcome) => void;
}

export interface LetterOutcome {
  readonly key: string;
  readonly consumer: string;
  readonly records: number;
  readonly status: 'redriven' | 'failed' | 'listed' | 'no-consumer';
  readonly reason?: string;
}

export interface RedriveReport {
  readonly letters: number;
  readonly redriven: number;
  readonly records: number;
  readonly failed: readonly LetterOutcome[];
}

/**
 * Feeds dead letters back to their consumers after a fix. A letter is removed only once its
 * consumer has processed every record; consumers are idempotent (messageId dedupe, deterministic
 * lake keys), so a letter redriven twice, or one whose records were partly applied before, changes
 * nothing more. A letter that fails again stays, with the new reason reported.
 */
export async function redriveDeadLetters(
  stores: readonly DeadLetterStore[],
  consumers: Readonly<Record<string, RedriveConsumer>>,
  options: RedriveOptions = {},
): Promise<RedriveReport> {
  let letters = 0;
  let redriven = 0;
  let records = 0;
  const failed: LetterOutcome[] = [];
  for (const store of stores) {
    for await (const { key, letter } of store.list(options.consumer)) {
      letters++;
      const base = { key, consumer: letter.consumer, records: letter.records.length };
      const consume = consumers[letter.consumer];
      let outcome: LetterOutcome;
      if (!consume) {
        outcome = { ...base, status: 'no-consumer', reason: `no consumer named "${letter.consumer}"` };
        failed.push(outcome);
      } else if (letter.records.length === 0) {
        outcome = { ...base, status: 'failed', reason: `no records to redrive (${letter.reason}); they may have expired from the stream: rebuild from the lake` };
        failed.push(outcome);
      } else if (options.dryRun) {
        outcome = { ...base, status: 'listed', reason: letter.reason };
      } else {
        try {
          await consume(letter.records.map((r) => ({ shardId: letter.shardId, sequenceNumber: r.sequenceNumber, data: r.data })));
          await store.remove(key);
          redriven++;
          records += letter.records.length;
          outcome = { ...base, status: 'redriven' };
        } catch (error) {
          outcome = { ...base, status: 'failed', reason: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
          failed.push(outcome);
        }
      }
      options.onLetter?.(outcome);
    }
  }
  return { letters, redriven, records, failed };
}
