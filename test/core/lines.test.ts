import { describe, expect, it } from 'vitest';
import { appendLines, fieldsOf, joinLines, removeLines, splitLines } from '../../src/core/lines';

describe('lossless lines', () => {
  it.each([
    [''], ['\n'], ['a'], ['a\n'], ['a\r\nb\n'], ['a\n\n\nb'], ['  x \t y  \n'], ['\0\xff\xfe\n'], ['a\r'], ['\r\n\r\n'],
  ])('split/join round-trips %j', (text) => {
    expect(joinLines(splitLines(text))).toBe(text);
  });

  it('removing an unterminated last line terminates the new last one', () => {
    expect(joinLines(removeLines(splitLines('a\nb'), new Set([1])))).toBe('a\n');
    expect(joinLines(removeLines(splitLines('a\nb'), new Set([0])))).toBe('b');
    expect(joinLines(removeLines(splitLines('a\r\nb\r\n'), new Set([1])))).toBe('a\r\n');
  });

  it('append terminates an unterminated last line first', () => {
    expect(joinLines(appendLines(splitLines('a'), ['b']))).toBe('a\nb\n');
    expect(joinLines(appendLines(splitLines(''), ['b']))).toBe('b\n');
    expect(joinLines(appendLines(splitLines('a\r\n'), ['b']))).toBe('a\r\nb\n');
  });

  it.each([
    ['10.0.0.1 a b # c', true, ['10.0.0.1', 'a', 'b']],
    ['#10.0.0.1 a', true, []],
    ['10.0.0.1\ta\r', true, ['10.0.0.1', 'a']],
    ['00:16:3e:00:00:01 10.0.1.1 # x', false, ['00:16:3e:00:00:01', '10.0.1.1', '#', 'x']],
    ['  # comment', false, []],
  ])('fieldsOf(%j, inline=%s)', (text, inline, fields) => {
    expect(fieldsOf(text, inline)).toEqual(fields);
  });
});
