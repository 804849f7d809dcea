import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { EnvironmentStore } from "../../src/store/environment/environment-store";
import type { Sql } from "../../src/store/sql";
import { addToOutbox } from "../../src/store/webhooks/webhooks-repo";
import { eventually } from "../support/eventually";
import { E, boolFlag, must, newStore, rawStub, type StoreStub } from "./helpers";

// A stored alarm survives an eviction or a deploy, but one can be lost; a fresh instance over the
// stored state sets it again for every part that still has work due, not only for releases.

/** Alert evaluations (which a commit asks for) would need the alarm too and hide what is tested. */
async function quiet(stub: StoreStub): Promise<void> {
  await runInDurableObject(rawStub(stub), (store: EnvironmentStore) => {
    must(
      store.alerts.setSettings({
        alerts: {
          "error-rate": { enabled: false },
          "stale-answers": { enabled: false },
          "publish-lag": { enabled: false },
          "flag-stale": { enabled: false },
        },
      }),
    );
  });
  await runDurableObjectAlarm(rawStub(stub)); // the evaluation that settings change asked for, and the publish backstop
}

/** Deletes the stored alarm, starts a fresh instance over the same state and answers the alarm it sets. */
const restart = (stub: StoreStub) =>
  runInDurableObject(rawStub(stub), async (_store: EnvironmentStore, state) => {
    await state.storage.deleteAlarm();
    new EnvironmentStore(state, E);
    return eventually(async () => (await state.storage.getAlarm()) ?? false, 5_000);
  });

describe("a lost alarm is set again by a fresh instance", () => {
  it("for superseded snapshots still to delete", async () => {
    const { stub } = await newStore("restore-gc");
    must(await stub.putFlag(boolFlag("a"), "t"));
    must(await stub.putFlag(boolFlag("b"), "t"));
    await quiet(stub);
    const due = await runInDurableObject(rawStub(stub), (store: EnvironmentStore) => store.snapshots.nextAt());
    expect(due).toBeGreaterThan(Date.now());
    expect(await restart(stub)).toBe(due);
  });

  it("for webhook deliveries left in the outbox", async () => {
    const { stub } = await newStore("restore-outbox");
    await quiet(stub);
    const created = Date.now();
    await runInDurableObject(rawStub(stub), (store: EnvironmentStore) => {
      addToOutbox((store as unknown as { sql: Sql }).sql, { id: "msg_lost", webhook: "wh_gone", body: "{}", created });
    });
    const alarm = await restart(stub);
    expect(alarm).toBeGreaterThan(created);
    expect(alarm).toBeLessThanOrEqual(created + 60_000);
  });
});
