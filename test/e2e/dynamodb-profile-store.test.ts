import { DynamoDbProfileStore } from '../../lambdas/adapters/aws/dynamodb-profile-store.js';
import { DynamoDbSegmentStore } from '../../lambdas/adapters/aws/dynamodb-segment-store.js';
import { CountingTelemetry } from '../../lambdas/adapters/local/counting-telemetry.js';
import { createLocalResources } from '../../local/bootstrap.js';
import { profileStoreContract } from '../contract/profile-store.js';
import { segmentStoreContract } from '../contract/segment-store.js';
import { destinationStoreContract } from '../contract/destination-store.js';
import { DynamoDbDestinationStore } from '../../lambdas/adapters/aws/dynamodb-destination-store.js';
import { useEmulators } from '../helpers/emulators.js';

const fixture = useEmulators('profile-store');
let tables = 0;

profileStoreContract('DynamoDB (dynalite)', async () => {
  const table = `contract-${++tables}`;
  await createLocalResources(fixture.clients, { ...fixture.settings, profilesTable: table });
  return new DynamoDbProfileStore(fixture.clients.dynamodb, table, new CountingTelemetry());
});

segmentStoreContract('DynamoDB (dynalite)', async () => {
  const table = `segments-${++tables}`;
  await createLocalResources(fixture.clients, { ...fixture.settings, profilesTable: table });
  return new DynamoDbSegmentStore(fixture.clients.dynamodb, table);
});

destinationStoreContract('DynamoDB (dynalite)', async () => {
  const table = `destinations-${++tables}`;
  await createLocalResources(fixture.clients, { ...fixture.settings, profilesTable: table });
  return new DynamoDbDestinationStore(fixture.clients.dynamodb, table);
});
