// bench/RESULTS.md kept whole across partial runs (BENCH_ONLY): the sections a run printed replace theirs, the rest stays.

/** "## 6. ..." sections of `fresh` replace the same-numbered ones of `previous` (or are appended); `previous`'s head stays. */
export function mergeResults(previous: string, fresh: string): string {
  const split = (text: string) => {
    const parts = text.split(/^(?=## )/m);
    return { head: parts[0]!, sections: parts.slice(1) };
  };
  const key = (section: string) => /^## (\d+)\./.exec(section)?.[1] ?? section.slice(0, section.indexOf('\n'));
  const old = split(previous);
  const now = split(fresh);
  const replacing = new Map(now.sections.map((section) => [key(section), section]));
  const kept = old.sections.map((section) => replacing.get(key(section)) ?? section);
  const added = now.sections.filter((section) => !old.sections.some((o) => key(o) === key(section)));
  return [old.head, ...kept, ...added].map((part) => (part.endsWith('\n\n') || part === old.head ? part : `${part.replace(/\n*$/, '')}\n\n`)).join('').replace(/\n+$/, '\n');
}
