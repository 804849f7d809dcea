/**
 * Webhooks end to end against `npm start`: a local HTTP receiver subscribed to an environment gets
 * a Standard Webhooks-signed event for an admin change, answers the first delivery with 500, and
 * gets the same event again (same webhook-id, newly signed) within 30 s.
 */
import { createHmac } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, startDevServer, type DevServer, SERVER_HOOK_TIMEOUT } from "../support/wrangler-dev";

const ENV = "hooks";

interface Received {
  at: number;
  headers: IncomingMessage["headers"];
  body: string;
}

/** The Standard Webhooks check a receiver does, written from the spec with Node's crypto. */
function verify(secret: string, r: Received): boolean {
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const expected = createHmac("sha256", key)
    .update(`${r.headers["webhook-id"]}.${r.headers["webhook-timestamp"]}.${r.body}`)
    .digest("base64");
  return String(r.headers["webhook-signature"]).split(" ").includes(`v1,${expected}`);
}

describe("webhooks: signed change events with retries", { timeout: 90_000 }, () => {
  let server: DevServer;
  let receiver: Server;
  let port = 0;
  const received: Received[] = [];
  const answers = [500];

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        received.push({ at: Date.now(), headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
        res.statusCode = answers.shift() ?? 200;
        res.end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
    port = (receiver.address() as { port: number }).port;
    server = await startDevServer();
    expect((await server.admin("PUT", `/environments/${ENV}`)).status).toBe(201);
  }, SERVER_HOOK_TIMEOUT);
  afterAll(async () => {
    await server?.stop();
    await new Promise<void>((r) => (receiver ? receiver.close(() => r()) : r()));
  }, 30_000);

  it("an admin change reaches the receiver signed, and after a 500 comes again with the same id within 30 s", async () => {
    const hook = await server.admin("POST", `/environments/${ENV}/webhooks`, { url: `http://127.0.0.1:${port}/hook` });
    expect(hook.status, hook.text).toBe(201);
    const put = await server.admin("PUT", `/environments/${ENV}/flags/checkout`, {
      type: "boolean",
      variants: { on: true, off: false },
      defaultVariant: "off",
    });
    expect(put.status, put.text).toBe(201);
    const version = Number(put.headers.get("etag")?.replace(/"/g, ""));
    const changedAt = Date.now();

    const first = await eventually(async () => received[0], 20_000);
    expect(verify(hook.json.secret, first)).toBe(true);
    expect(first.headers["content-type"]).toContain("application/json");
    const event = JSON.parse(first.body);
    expect(event).toMatchObject({
      type: "flag.created",
      data: { environment: ENV, version, actor: "bootstrap", operation: "flag.put", target: "checkout" },
    });
    expect(Math.abs(Number(first.headers["webhook-timestamp"]) * 1000 - changedAt)).toBeLessThan(20_000);

    const retry = await eventually(async () => received[1], 30_000);
    expect(retry.at - first.at).toBeLessThan(30_000);
    expect(retry.headers["webhook-id"]).toBe(first.headers["webhook-id"]);
    expect(retry.body).toBe(first.body);
    expect(verify(hook.json.secret, retry)).toBe(true);

    // Answered 200: no third delivery of this event.
    await new Promise((r) => setTimeout(r, 8_000));
    expect(received.filter((r) => r.headers["webhook-id"] === first.headers["webhook-id"])).toHaveLength(2);
  });
});
