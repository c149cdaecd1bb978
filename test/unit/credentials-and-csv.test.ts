import { describe, expect, it } from 'vitest';
import { CsvRecordAssembler, csvRowToEvent, parseCsvHeader } from '../../lambdas/domain/csv.js';
import { bearerToken, generateSecret, hashSecret, writeKeyFromBasicAuth, type Credential } from '../../lambdas/domain/credentials.js';
import { Authenticator } from '../../lambdas/use-cases/authenticate.js';
import { InMemoryCredentialStore } from '../../lambdas/adapters/memory/in-memory-credential-store.js';

const basic = (user: string, password = ''): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('write key parsing', () => {
  it('reads the Basic username and ignores the password', () => {
    expect(writeKeyFromBasicAuth(basic('wk_abc'))).toBe('wk_abc');
    expect(writeKeyFromBasicAuth(basic('wk_abc', 'x'))).toBe('wk_abc');
  });
  it.each([undefined, '', 'Bearer x', basic(''), 'Basic !!!'])('finds no key in %j', (header) => {
    expect(writeKeyFromBasicAuth(header)).toBeUndefined();
  });
  it('reads bearer tokens', () => expect(bearerToken('Bearer at_1')).toBe('at_1'));
  it('generates distinct prefixed secrets and hashes them', () => {
    const a = generateSecret('write');
    expect(a).toMatch(/^wk_/);
    expect(generateSecret('admin')).toMatch(/^at_/);
    expect(hashSecret(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashSecret(a)).not.toBe(hashSecret(generateSecret('write')));
  });
});

describe('Authenticator', () => {
  const credential = (secret: string, kind: 'write' | 'admin'): Credential => ({
    keyHash: hashSecret(secret), kind, sourceId: 'web', name: 'web', createdAt: '2026-01-01T00:00:00Z',
  });

  it('accepts a write key only as a write key, and caches lookups', async () => {
    const store = new InMemoryCredentialStore();
    await store.create(credential('wk_1', 'write'));
    const auth = new Authenticator(store);
    expect(await auth.authenticate('wk_1', 'write')).toMatchObject({ sourceId: 'web' });
    expect(await auth.authenticate('wk_1', 'admin')).toBeUndefined();
    expect(await auth.authenticate('nope', 'write')).toBeUndefined();
    expect(await auth.authenticate('nope', 'write')).toBeUndefined();
    expect(store.reads).toBe(2);
  });

  it('stops accepting a revoked key once the cache entry expires', async () => {
    let now = 0;
    const store = new InMemoryCredentialStore();
    await store.create(credential('wk_2', 'write'));
    const auth = new Authenticator(store, { positiveTtlMs: 1000, now: () => now });
    expect(await auth.authenticate('wk_2', 'write')).toBeDefined();
    await store.revoke(hashSecret('wk_2'), new Date());
    now = 1001;
    expect(await auth.authenticate('wk_2', 'write')).toBeUndefined();
  });
});

describe('CSV import mapping', () => {
  it('maps dotted, typed headers into event objects and handles quoted line breaks', () => {
    const assembler = new CsvRecordAssembler();
    const header = assembler.push('type,userId,event,properties.revenue:number,traits.address.city,context.vip:boolean')!;
    const columns = parseCsvHeader(header);
    expect(assembler.push('track,u1,"Order ""Completed""",12.5,"Lis')).toBeUndefined();
    const row = assembler.push('boa",true')!;
    expect(csvRowToEvent(columns, row)).toEqual({
      type: 'track', userId: 'u1', event: 'Order "Completed"',
      properties: { revenue: 12.5 }, traits: { address: { city: 'Lis\nboa' } }, context: { vip: true },
    });
  });

  it('names the column when a cell does not fit its type', () => {
    const columns = parseCsvHeader(['type', 'userId', 'properties.revenue:number']);
    expect(() => csvRowToEvent(columns, ['track', 'u', 'abc'])).toThrow(/not a number/);
    expect(() => parseCsvHeader(['bogus'])).toThrow(/not a known field/);
    expect(() => parseCsvHeader(['traits.__proto__'])).toThrow();
  });
});
