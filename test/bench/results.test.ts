import { describe, expect, it } from 'vitest';
import { mergeResults } from '../../bench/results';

const previous = '# results\n\nMachine: old.\n\n## 1. One event\n\nold one\n\n## 6. A pool\n\nold pool\n';

describe('mergeResults', () => {
  it.each([
    ['a section of the run replaces the same-numbered one, the others stay', '# results\n\nMachine: new.\n\n## 6. A pool\n\nnew pool\n',
      '# results\n\nMachine: old.\n\n## 1. One event\n\nold one\n\n## 6. A pool\n\nnew pool\n'],
    ['a section the file lacks is appended', '# results\n\n## 7. New\n\nseven\n',
      '# results\n\nMachine: old.\n\n## 1. One event\n\nold one\n\n## 6. A pool\n\nold pool\n\n## 7. New\n\nseven\n'],
    ['a run with no section changes nothing', '# results\n\nMachine: new.\n', previous],
  ])('%s', (_, fresh, merged) => {
    expect(mergeResults(previous, fresh)).toBe(merged);
  });
});
