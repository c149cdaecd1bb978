import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { createClients, type Clients } from '../../lambdas/composition.js';
import { createLocalResources } from '../../local/bootstrap.js';
import { startEmulators, type Emulators } from '../../local/emulators.js';
import { localSettings, type LocalSettings } from '../../local/settings.js';

export interface EmulatorFixture {
  readonly dataDir: string;
  readonly settings: LocalSettings;
  /** Real SDK clients pointed at the emulators; set once `beforeAll` has run. */
  readonly clients: Clients;
  readonly emulators: Emulators;
}

/** Starts dynalite, kinesalite and s3rver with the runtime's resources for this test file, and stops them after. */
export function useEmulators(name: string, env: Record<string, string> = {}): EmulatorFixture {
  const dataDir = mkdtempSync(join(tmpdir(), `cdp-${name}-`));
  const fixture = { dataDir, settings: localSettings({ CDP_DATA_DIR: dataDir, CDP_SHARDS: '1', ...env }) } as {
    dataDir: string;
    settings: LocalSettings;
    clients: Clients;
    emulators: Emulators;
  };
  beforeAll(async () => {
    fixture.emulators = await startEmulators(dataDir);
    fixture.clients = createClients({ local: fixture.emulators.endpoints });
    await createLocalResources(fixture.clients, fixture.settings);
  });
  afterAll(async () => fixture.emulators?.close());
  return fixture;
}
