import { InMemoryProfileStore } from '../../lambdas/adapters/memory/in-memory-profile-store.js';
import { InMemorySegmentStore } from '../../lambdas/adapters/memory/in-memory-segment-store.js';
import { profileStoreContract } from '../contract/profile-store.js';
import { segmentStoreContract } from '../contract/segment-store.js';

profileStoreContract('in memory', async () => new InMemoryProfileStore());
segmentStoreContract('in memory', async () => new InMemorySegmentStore());
