import * as z from 'zod/mini';
import { LakeLayout } from '../contracts.js';
import { IdentifierTypePattern } from './profile-config.js';
import { parseJsonAs } from './validation.js';

const IdentifierRecord = z.object({ type: z.string().check(z.regex(IdentifierTypePattern)), value: z.string().check(z.minLength(1)) });

/**
 * An admin's split, as the lake keeps it so that a rebuild can replay it: which identifier left
 * which profile for which, and the identifiers that stayed. Splits otherwise live only in profile
 * state, and a rebuild from the lake would merge split people again.
 */
export const SplitRecord = z.object({
  kind: z.literal('split'),
  /** When the split was made (epoch milliseconds). */
  at: z.number(),
  profileId: z.string(),
  into: z.string(),
  identifier: IdentifierRecord,
  remaining: z.array(IdentifierRecord),
});
export type SplitRecord = z.infer<typeof SplitRecord>;

/** Where a split is kept: one object per split-off profile, so repeating a split rewrites the same one. */
export const splitRecordKey = (into: string): string => `${LakeLayout.splitsPrefix}${into}.json`;

/** A stored split record, or undefined for an object that is not one. */
export const parseSplitRecord = (text: string): SplitRecord | undefined => parseJsonAs(SplitRecord, text);
