/**
 * Reading the repository's Markdown as GitHub renders it, for the docs checks (test/docs/): which
 * text is prose, which heading ids exist, what a section holds, and which links point where.
 * @module
 */

/** Markdown without fenced code blocks, where `](…)` and `#` lines are not links or headings. */
export const prose = (markdown: string): string => markdown.replace(/```[\s\S]*?```/g, "");

/** GitHub's id for one heading's text: lower case, punctuation dropped, spaces to "-". */
function baseId(text: string): string {
  return text
    .replace(/`/g, "")
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

export interface Section {
  /** GitHub's heading id; repeats get "-1", "-2"… as GitHub numbers them. */
  id: string;
  level: number;
  /** The heading line and everything up to the next heading of the same or a higher level. */
  text: string;
}

/** Every heading of a document with the section it opens (fenced code never holds a heading). */
export function sections(markdown: string): Section[] {
  const lines = prose(markdown).split("\n");
  const heads: { id: string; level: number; line: number }[] = [];
  const seen = new Map<string, number>();
  lines.forEach((line, i) => {
    const m = /^(#{1,6})\s+(.+?)\s*#*$/.exec(line);
    if (!m) return;
    const base = baseId(m[2]!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    heads.push({ id: n === 0 ? base : `${base}-${n}`, level: m[1]!.length, line: i });
  });
  return heads.map((h, k) => {
    const next = heads.slice(k + 1).find((o) => o.level <= h.level);
    return { id: h.id, level: h.level, text: lines.slice(h.line, next?.line ?? lines.length).join("\n") };
  });
}

/** GitHub's heading ids of a document. */
export function headingIds(markdown: string): Set<string> {
  return new Set(sections(markdown).map((s) => s.id));
}

/** Links of the prose as `[text](target)`, images included; `text` as written. */
export function links(markdown: string): { text: string; target: string }[] {
  return [...prose(markdown).matchAll(/\[([^\]]*)\]\(([^)\s]+)\)/g)].map((m) => ({ text: m[1]!, target: m[2]! }));
}
