import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StandardWorkloadScript, workloadBodies } from '../../local/bench/workload.js';

const shared = resolve(import.meta.dirname, '../../../shared/bench/workload.mjs');

describe('the standard workload', () => {
  it.runIf(existsSync(shared))('is kept identical to the shared generator', () => {
    expect(readFileSync(StandardWorkloadScript, 'utf8')).toBe(readFileSync(shared, 'utf8'));
  });

  it('generates request bodies of the asked batch size from the copy in the repository', () => {
    const bodies = workloadBodies({ events: 120, batch: 40 });
    expect(bodies).toHaveLength(3);
    expect((JSON.parse(bodies[0]!) as { batch: unknown[] }).batch).toHaveLength(40);
  });
});
