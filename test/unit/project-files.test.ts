import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const read = (file: string): string => readFileSync(resolve(root, file), 'utf8');
const pkg = JSON.parse(read('package.json')) as { license: string; scripts: Record<string, string>; engines: { node: string } };

describe('the files an open-source project needs', () => {
  it('has a LICENSE matching package.json', () => {
    expect(pkg.license).toBe('Apache-2.0');
    const license = read('LICENSE');
    expect(license).toMatch(/Apache License\s+Version 2\.0, January 2004/);
    expect(license).toContain('END OF TERMS AND CONDITIONS');
  });

  it('has a CONTRIBUTING guide and a README whose npm scripts all exist', () => {
    for (const file of ['CONTRIBUTING.md', 'README.md']) {
      const text = read(file);
      expect(text, file).toContain('npm install && npm start');
      expect(text, file).toContain('npm test');
      for (const [, script] of text.matchAll(/npm run ([a-z:]+)/g)) expect(Object.keys(pkg.scripts), `${file}: npm run ${script}`).toContain(script);
    }
  });

  it('has a changelog', () => {
    expect(read('CHANGELOG.md')).toMatch(/^# Changelog[\s\S]*^## Unreleased/m);
  });

  it('has a CI workflow running the same script as the project CI, on the Node.js versions it supports', () => {
    const workflow = read('.github/workflows/ci.yml');
    expect(workflow).toContain('run: ./.ci/run');
    expect(workflow).toMatch(/on:\s+push:\s+pull_request:/);
    expect(workflow).toContain("node: ['20.19', '22']");
    expect(pkg.engines.node).toBe('^20.19.0 || ^22.13.0 || >=24');
    expect(existsSync(resolve(root, '.ci/run'))).toBe(true);
    expect(read('.ci/run')).toMatch(/npm ci[\s\S]*npm test/);
  });
});
