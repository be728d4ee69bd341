// Text made safe to embed in a RegExp: every regex metacharacter escaped.
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
