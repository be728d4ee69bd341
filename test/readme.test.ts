// The README's first commands are exactly what CI runs, so the documented set-up is the tested one.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..');

describe('README and .ci/run', () => {
  it('.ci/run runs the README\'s set-up and test commands verbatim', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)![1]!.trim().split('\n');
    expect(firstBlock).toHaveLength(2);
    const ci = readFileSync(join(root, '.ci', 'run'), 'utf8').split('\n');
    for (const command of firstBlock) expect(ci).toContain(command);
    expect(readme.slice(0, 800)).toContain('npm run demo');
  });
});
