import { InMemoryProfileStore } from '../../lambdas/adapters/memory/in-memory-profile-store.js';
import { profileStoreContract } from '../contract/profile-store.js';

profileStoreContract('in memory', async () => new InMemoryProfileStore());
