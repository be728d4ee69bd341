// Lossless line model: a file as its lines (split on \n, any \r kept in the text) plus whether the last one was terminated.

export interface LineList {
  readonly lines: readonly string[]; // without the \n; a CRLF line keeps its \r
  readonly terminated: boolean; // false when the file's last line has no final newline
}

/** Split text decoded as latin1 (so every byte survives); String#split is the fastest way through 100,000 lines. */
export function splitLines(content: string): LineList {
  if (content === '') return { lines: [], terminated: true };
  const lines = content.split('\n');
  const terminated = lines[lines.length - 1] === '';
  if (terminated) lines.pop();
  return { lines, terminated };
}

export function joinLines(list: LineList): string {
  if (list.lines.length === 0) return '';
  return list.lines.join('\n') + (list.terminated ? '\n' : '');
}

/** Append whole lines; an unterminated last line gets its newline first. */
export function appendLines(list: LineList, texts: readonly string[]): LineList {
  if (texts.length === 0) return list;
  return { lines: [...list.lines, ...texts], terminated: true };
}

/** Remove lines by index; removing an unterminated last line leaves the new last line terminated. */
export function removeLines(list: LineList, indexes: ReadonlySet<number>): LineList {
  if (indexes.size === 0) return list;
  return { lines: list.lines.filter((_, index) => !indexes.has(index)), terminated: list.terminated || indexes.has(list.lines.length - 1) };
}

/** Fields of a line, split on blanks (space, tab, \r, \f, \v), with everything from `#` dropped when allowed. */
export function fieldsOf(text: string, inlineComments: boolean): string[] {
  let body = text;
  if (inlineComments) {
    const hash = body.indexOf('#');
    if (hash !== -1) body = body.slice(0, hash);
  } else if (body.trimStart().startsWith('#')) {
    return [];
  }
  return body.split(/[ \t\r\f\v]+/).filter((field) => field !== '');
}

/** Entries of the lines that stay, with line numbers shifted past the removed ones. */
export function reindex<T extends { readonly index: number }>(entries: readonly T[], removed: ReadonlySet<number>): T[] {
  const gone = [...removed].sort((a, b) => a - b);
  const out: T[] = [];
  let shift = 0;
  for (const entry of entries) {
    while (shift < gone.length && gone[shift]! < entry.index) shift++;
    if (removed.has(entry.index)) continue;
    out.push(shift === 0 ? entry : { ...entry, index: entry.index - shift });
  }
  return out;
}
