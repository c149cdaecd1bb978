import { describe, expect, it } from 'vitest';
import { extractIdentifiers, HashedValuePattern, normalizeIdentifier, withHashedIdentifiers, type IdentityRules } from '../../lambdas/domain/identifiers.js';
import { ProfileConfig } from '../../lambdas/domain/profile-config.js';
import { traitsOf } from '../../lambdas/domain/profile.js';
import { privacyHash } from '../../lambdas/domain/privacy.js';
import { timelineSql } from '../../lambdas/domain/timeline.js';
import { toLakeRow } from '../../lambdas/domain/lake.js';
import { SaltedIdentifierHasher } from '../../lambdas/use-cases/identifier-hashing.js';
import { StaticSalt } from '../../lambdas/adapters/local/static-salt.js';
import { collected } from '../helpers/events.js';

async function rulesWith(config: Partial<ProfileConfig>, salt = 'salt-1'): Promise<IdentityRules> {
  const hasher = new SaltedIdentifierHasher(new StaticSalt(salt));
  await hasher.load();
  return { ...ProfileConfig.parse(config), identifierHasher: hasher };
}

const identify = collected({
  type: 'identify',
  userId: 'u-1',
  anonymousId: 'device-1',
  traits: { email: ' Ana@Example.com ', phone: '+44 20 7946 0123', name: 'Ana', customer_number: 'C-77' },
  context: { traits: { email: 'ana@example.com' }, externalIds: [{ type: 'crm_id', id: 'crm-9', collection: 'users', encoding: 'none' }] },
});

describe('identifier types stored hashed', () => {
  it('hashes every field identity resolution reads, with the salt, so the event keeps no readable copy', async () => {
    const rules = await rulesWith({ hashedIdentifiers: ['email', 'phone', 'customer_number', 'crm_id'], traitIdentifiers: ['customer_number'] });
    const hashed = withHashedIdentifiers(identify, rules);
    const text = JSON.stringify(hashed);
    for (const raw of ['ana@example.com', 'Ana@Example', '7946', 'C-77', 'crm-9']) expect(text).not.toContain(raw);
    expect(hashed.traits?.email).toMatch(HashedValuePattern);
    // Normalized before hashing: the same address however it was written.
    expect(hashed.traits?.email).toBe((hashed.context?.traits as Record<string, unknown>).email);
    // What is not stored hashed is untouched.
    expect(hashed).toMatchObject({ userId: 'u-1', anonymousId: 'device-1', traits: { name: 'Ana' } });
    expect(identify.traits?.email).toBe(' Ana@Example.com ');
    // Hashing again changes nothing, and extraction finds the same identifiers in the raw and the hashed event.
    expect(withHashedIdentifiers(hashed, rules)).toEqual(hashed);
    expect(extractIdentifiers(hashed, rules)).toEqual(extractIdentifiers(identify, rules));
    expect(extractIdentifiers(identify, rules).identifiers.map((id) => id.type)).toEqual(['user_id', 'email', 'phone', 'crm_id', 'customer_number', 'anonymous_id']);
  });

  it('gives a different hash under another salt, and never equals the privacy hash of the same identifier', async () => {
    const one = await rulesWith({ hashedIdentifiers: ['email'] }, 'salt-1');
    const two = await rulesWith({ hashedIdentifiers: ['email'] }, 'salt-2');
    const value = (rules: IdentityRules) => (normalizeIdentifier('email', 'ana@example.com', rules) as { identifier: { value: string } }).identifier.value;
    expect(value(one)).not.toBe(value(two));
    expect(value(one)).toBe(value(one));
    expect(value(one)).not.toBe(`h:${privacyHash('salt-1', { type: 'email', value: 'ana@example.com' })}`);
  });

  it('keeps invalid values refused, and unreadable; placeholders stay as they are', async () => {
    const rules = await rulesWith({ hashedIdentifiers: ['email', 'user_id'] });
    const hashed = withHashedIdentifiers(collected({ userId: 'unknown', traits: { email: 'ana at example.com' } }), rules);
    expect(hashed).toMatchObject({ userId: 'unknown', traits: { email: 'invalid' } });
    expect(extractIdentifiers(hashed, rules)).toEqual({ identifiers: [], refused: [{ type: 'user_id', reason: 'blocked' }, { type: 'email', reason: 'invalid' }] });
  });

  it('refuses to store a hashed type raw when the function has no hasher', () => {
    const rules = ProfileConfig.parse({ hashedIdentifiers: ['email'] });
    expect(() => extractIdentifiers(identify, rules)).toThrow(/stored hashed.*no hasher/);
    expect(withHashedIdentifiers(identify, ProfileConfig.parse({}))).toBe(identify);
  });

  it('keeps no trait of a hashed type on the profile, and finds the events of hashed identifiers by the lake\'s identifier column', async () => {
    const rules = await rulesWith({ hashedIdentifiers: ['email'] });
    expect(Object.keys(traitsOf(withHashedIdentifiers(identify, rules), 0, rules).traits).sort()).toEqual(['customer_number', 'name', 'phone']);
    const row = toLakeRow(withHashedIdentifiers(collected({ traits: { email: 'ana@example.com' } }), rules), rules);
    expect(row.identifier).toMatch(/^email:h:/);
    const sql = timelineSql({ identifiers: [{ type: 'email', value: row.identifier!.slice('email:'.length) }, { type: 'anonymous_id', value: 'device-1' }], limit: 10 })!;
    expect(sql).toContain(`identifier IN ('${row.identifier}')`);
    expect(sql).toContain(`anonymous_id IN ('device-1')`);
    expect(sql).not.toContain("json_extract_scalar(traits, '$.email')");
  });

  it('loads the salt once, and will not hash before it is loaded', async () => {
    let reads = 0;
    const hasher = new SaltedIdentifierHasher({ salt: async () => (reads++, 'salt') });
    expect(() => hasher.hash('email', 'a@b.c')).toThrow(/before its salt was loaded/);
    await hasher.load();
    await hasher.load();
    expect(reads).toBe(1);
    expect(hasher.hash('email', 'a@b.c')).toMatch(HashedValuePattern);
  });
});
