/**
 * Every curl line of README.md and of docs/*.md, run with the real curl against a real `npm start`,
 * README first, then docs/ by file name, each in document order, as a reader would paste them: the
 * placeholders of the `T=<…>`, `B=…` and `K=<…>` lines become this server's admin token, base URL
 * and the key README's own mint call answered (docs/ blocks use README's `staging` environment).
 *
 * Runnable blocks are the fenced `sh` blocks right after a `<!-- readme-curl -->` marker. Every
 * other curl in these files must be deliberately excluded with `<!-- readme-curl: skip -->`, so a
 * new example cannot slip in untested. A line answers 2xx unless the comment line right above it
 * says `expect NNN`.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot, SERVER_HOOK_TIMEOUT, startDevServer, type DevServer } from "../support/wrangler-dev";

interface Block {
  marker: "run" | "skip" | "none";
  text: string;
  file: string;
}
interface Command {
  /** Shell text with continuations joined. */
  shell: string;
  expect?: number;
}

/** README.md, then every docs/*.md by name: the order the blocks run in. */
const DOC_FILES = [
  "README.md",
  ...readdirSync(join(repoRoot, "docs"))
    .filter((f) => f.endsWith(".md"))
    .sort()
    .map((f) => `docs/${f}`),
];

/** Fenced code blocks with the marker (if any) on the last non-blank line before the fence. */
function codeBlocks(markdown: string, file: string): Block[] {
  const blocks: Block[] = [];
  const re = /```[a-z]*\n([\s\S]*?)```/g;
  for (let m = re.exec(markdown); m; m = re.exec(markdown)) {
    const before = markdown.slice(0, m.index).trimEnd().split("\n").pop() ?? "";
    const marker = /<!--\s*readme-curl:\s*skip\s*-->/.test(before)
      ? "skip"
      : /<!--\s*readme-curl\s*-->/.test(before)
        ? "run"
        : "none";
    blocks.push({ marker, text: m[1], file });
  }
  return blocks;
}

/** Variable lines (`NAME=…`) and curl commands of one block, continuations joined. */
function parseBlock(text: string): { vars: string[]; commands: Command[] } {
  const lines = text
    .replace(/\\\n\s*/g, " ")
    .split("\n")
    .map((l) => l.trim());
  const vars: string[] = [];
  const commands: Command[] = [];
  lines.forEach((line, i) => {
    if (/^[A-Z]\w*=/.test(line)) vars.push(...line.split(/;\s*/).map((a) => a.split("=")[0]));
    if (!line.startsWith("curl ")) return;
    const expect = /expect\s+(\d{3})/.exec(lines[i - 1] ?? "")?.[1];
    commands.push({ shell: line, expect: expect ? Number(expect) : undefined });
  });
  return { vars, commands };
}

const blocks = DOC_FILES.flatMap((file) => codeBlocks(readFileSync(join(repoRoot, file), "utf8"), file));
const runnable = blocks.filter((b) => b.marker === "run").map((b) => parseBlock(b.text));
const commands = runnable.flatMap((b) => b.commands);

describe("README and docs/ curl lines", () => {
  let server: DevServer;
  /** What the README's variables stand for here; K appears once the mint call has answered. */
  const vars: Record<string, string> = {};

  beforeAll(async () => {
    server = await startDevServer();
    vars.T = server.adminToken;
    vars.B = server.baseUrl;
  }, SERVER_HOOK_TIMEOUT);
  afterAll(async () => {
    await server?.stop();
  }, SERVER_HOOK_TIMEOUT);

  it("every curl in README and docs/ is in a block marked to run (or explicitly skipped)", () => {
    const unmarked = blocks.filter((b) => b.marker === "none" && /(^|\n)\s*curl\s/.test(b.text));
    expect(unmarked.map((b) => `${b.file}: ${b.text.slice(0, 80)}`)).toEqual([]);
    expect(commands.length).toBeGreaterThanOrEqual(6);
    // README's own block comes first: it creates the environment and mints the key the others use.
    expect(blocks.find((b) => b.marker === "run")?.file).toBe("README.md");
    // The releases examples moved to docs/ with the move of their section; they must still run.
    expect(blocks.filter((b) => b.marker === "run").map((b) => b.file)).toContain("docs/releases.md");
    // Only variables this test knows how to fill may appear.
    for (const name of runnable.flatMap((b) => b.vars)) expect(["T", "B", "K"]).toContain(name);
  });

  it("each line answers as README says, in order", { timeout: 120_000 }, () => {
    for (const command of commands) {
      // The shell expands $T/$B/$K exactly as in a reader's terminal; -w appends the status.
      const res = spawnSync("bash", ["-c", `${command.shell} -w '\\n%{http_code}'`], {
        cwd: repoRoot,
        encoding: "utf8",
        timeout: 30_000,
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...vars },
      });
      expect(res.status, `${command.shell}\n${res.stderr}`).toBe(0);
      const out = res.stdout;
      const status = Number(out.slice(out.lastIndexOf("\n") + 1));
      const body = out.slice(0, out.lastIndexOf("\n"));
      const wanted = command.expect;
      const ok = wanted === undefined ? status >= 200 && status < 300 : status === wanted;
      expect(ok, `${command.shell}\n→ ${status} ${body.slice(0, 300)}`).toBe(true);
      // "K=<the key from the mint call>": the README's mint line is where a reader gets K.
      if (/\/keys\b/.test(command.shell) && /-X POST/.test(command.shell)) vars.K = JSON.parse(body).key;
    }
    expect(vars.K, "README mints a key before using $K").toMatch(/^ef[cs]_/);
  });
});
