#!/usr/bin/env node
/**
 * A stand-in for wrangler's account commands, for testing scripts/deploy.mjs without a Cloudflare
 * account. State (namespaces, queues, whether the Worker exists, its secret names, a command
 * prefix that fails) and a log of every call live in the JSON file named by FAKE_WRANGLER_STATE.
 */
import { readFileSync, writeFileSync } from "node:fs";

const file = process.env.FAKE_WRANGLER_STATE;
const state = JSON.parse(readFileSync(file, "utf8"));
const args = process.argv.slice(2);
const call = { args };
state.calls.push(call);
const flag = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const save = () => writeFileSync(file, JSON.stringify(state, null, 2));

const cmd = args.slice(0, 3).join(" ");
if (args[0] === "deploy") {
  call.secretsFile = flag("--secrets-file");
  call.config = readFileSync(flag("--config"), "utf8");
}
// A deploy is named by the script it ships ("deploy edge" / "deploy store"), so a test can fail one.
const script =
  args[0] === "deploy" ? (/^main = "src\/edge-worker\.ts"$/m.test(call.config) ? "edge" : "store") : undefined;
const words = script ? `deploy ${script} ${args.slice(1).join(" ")}` : args.join(" ");
if (state.failing && words.startsWith(state.failing)) {
  save();
  console.error("Authentication error [code: 10000]");
  process.exit(1);
} else if (cmd === "kv namespace list") {
  process.stdout.write(JSON.stringify(state.namespaces));
} else if (cmd === "kv namespace create") {
  state.namespaces.push({ id: `id-of-${args[3]}`, title: args[3] });
  console.log(`Created namespace ${args[3]} (this text is for people)`);
} else if (cmd.startsWith("queues info")) {
  if (!state.queues.includes(args[2])) {
    save();
    console.error(`Queue "${args[2]}" does not exist.`);
    process.exit(1);
  }
} else if (cmd.startsWith("queues create")) {
  state.queues.push(args[2]);
} else if (args[0] === "secret" && args[1] === "list") {
  if (!state.workerExists) {
    save();
    console.error("This Worker does not exist on your account. [code: 10007]");
    process.exit(1);
  }
  process.stdout.write(JSON.stringify(state.secrets.map((name) => ({ name, type: "secret_text" }))));
} else if (args[0] === "deploy") {
  const secretsFile = call.secretsFile;
  if (secretsFile) call.secrets = JSON.parse(readFileSync(secretsFile, "utf8"));
  state.workerExists = true;
  state.secrets = [...new Set([...state.secrets, ...Object.keys(call.secrets ?? {})])];
} else {
  save();
  console.error(`fake wrangler: unexpected ${args.join(" ")}`);
  process.exit(2);
}
save();
