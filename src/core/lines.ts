// Lossless line model: a file as lines with their own terminators, so untouched lines render byte for byte.

export interface Line {
  readonly text: string; // without terminator
  readonly eol: '' | '\n' | '\r\n';
}

/** Split text (decoded as latin1, so every byte survives) into lines, keeping each terminator. */
export function splitLines(content: string): Line[] {
  const lines: Line[] = [];
  let start = 0;
  while (start < content.length) {
    const nl = content.indexOf('\n', start);
    if (nl === -1) {
      lines.push({ text: content.slice(start), eol: '' });
      break;
    }
    const crlf = nl > start && content.charCodeAt(nl - 1) === 13;
    lines.push({ text: content.slice(start, crlf ? nl - 1 : nl), eol: crlf ? '\r\n' : '\n' });
    start = nl + 1;
  }
  return lines;
}

export function joinLines(lines: readonly Line[]): string {
  let out = '';
  for (const line of lines) out += line.text + line.eol;
  return out;
}

/** Append new lines, first giving an unterminated last line its newline. */
export function appendLines(lines: readonly Line[], texts: readonly string[]): Line[] {
  if (texts.length === 0) return [...lines];
  const out = [...lines];
  const last = out[out.length - 1];
  if (last && last.eol === '') out[out.length - 1] = { text: last.text, eol: '\n' };
  for (const text of texts) out.push({ text, eol: '\n' });
  return out;
}

/** Fields of a line, split on blanks (space, tab, stray CR), with everything from `#` dropped when allowed. */
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
