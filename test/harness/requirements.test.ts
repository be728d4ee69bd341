// The demo's and benchmark's pre-flight check names what is missing and the command that installs it.
import { afterEach, describe, expect, it } from 'vitest';
import { missingRequirements } from './requirements';

const savedPath = process.env.PATH;
afterEach(() => { process.env.PATH = savedPath; });

describe('missingRequirements', () => {
  it('names the missing commands and the apt-get line that installs them', () => {
    process.env.PATH = '/nonexistent';
    const problems = missingRequirements('/nonexistent-checkout').join('\n');
    expect(problems).toMatch(/missing .*dig.*: apt-get install -y .*dnsutils/);
    expect(problems).toContain('npm ci && npm run build');
  });

  it('adds what the caller needs (the benchmark: python3 for its CPU wrapper) to the same apt-get line', () => {
    process.env.PATH = '/nonexistent';
    expect(missingRequirements('/nonexistent-checkout', [['python3', 'python3']]).join('\n')).toMatch(/missing .*python3: apt-get install -y .*dnsutils.* python3/);
  });

  it('finds nothing missing on a machine set up by the README', () => {
    if (process.getuid?.() !== 0) return;
    expect(missingRequirements(`${__dirname}/../..`)).toEqual([]);
  });
});
