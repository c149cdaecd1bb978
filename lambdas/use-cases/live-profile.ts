import type { ProfileStore, VersionedProfile } from '../ports/profile-store.js';

/** Merge chains are short; a longer one is a loop or corruption, and is not followed. */
const MaxRedirectHops = 20;

/**
 * Where a profile id leads through merge redirects: the id reached and its item, which is
 * undefined when the item is missing or the chain is longer than {@link MaxRedirectHops}.
 */
export async function followRedirects(store: Pick<ProfileStore, 'profiles'>, profileId: string): Promise<{ id: string; stored: VersionedProfile | undefined }> {
  let id = profileId;
  for (let hops = 0; hops < MaxRedirectHops; hops++) {
    const [stored] = await store.profiles([id]);
    if (!stored?.redirect) return { id, stored };
    id = stored.redirect.to;
  }
  return { id, stored: undefined };
}
