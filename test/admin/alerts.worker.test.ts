import { describe, expect, it } from "vitest";
import { DEFAULT_ALERT_SETTINGS } from "../../src/core/alerts";
import { api, createEnv, errorOf } from "./support";

const settingsOf = (env: string) => `/environments/${env}/alerts/settings`;

describe("alert routes: /environments/{env}/alerts", () => {
  it("GET settings answers the defaults; PUT merges a partial update and GET reads it back", async () => {
    const env = await createEnv("al-set");
    expect((await api("GET", settingsOf(env))).body).toEqual(DEFAULT_ALERT_SETTINGS);
    const put = await api("PUT", settingsOf(env), {
      body: { windowMinutes: 10, alerts: { "publish-lag": { threshold: 120 }, "flag-stale": { enabled: false } } },
    });
    expect(put.status).toBe(200);
    const expected = {
      ...DEFAULT_ALERT_SETTINGS,
      windowMinutes: 10,
      alerts: {
        ...DEFAULT_ALERT_SETTINGS.alerts,
        "publish-lag": { enabled: true, threshold: 120 },
        "flag-stale": { enabled: false },
      },
    };
    expect(put.body).toEqual(expected);
    // A second partial keeps the first.
    const again = await api("PUT", settingsOf(env), { body: { minRequests: 5 } });
    expect(again.body).toEqual({ ...expected, minRequests: 5 });
    expect((await api("GET", settingsOf(env))).body).toEqual({ ...expected, minRequests: 5 });
  });

  it.each([
    ["an unknown field", { thresholds: {} }, "thresholds"],
    ["a window that is not a whole number of minutes", { windowMinutes: 2.5 }, "windowMinutes"],
    ["a percentage over 100", { alerts: { "error-rate": { threshold: 150 } } }, "alerts.error-rate.threshold"],
    ["a negative lag threshold", { alerts: { "publish-lag": { threshold: -1 } } }, "alerts.publish-lag.threshold"],
    ["a string where a number goes", { minRequests: "100" }, "minRequests"],
    ["a cadence over an hour", { evaluateEverySeconds: 7200 }, "evaluateEverySeconds"],
    ["a no-data bound under 10 s", { noDataAfterSeconds: 1 }, "noDataAfterSeconds"],
  ])("PUT refuses %s with a 400 naming the field, and changes nothing", async (_label, body, path) => {
    const env = await createEnv("al-bad");
    const res = await api("PUT", settingsOf(env), { body });
    expect(res.status).toBe(400);
    const error = errorOf(res);
    expect(error.code).toBe("INVALID");
    // The field is named by its path, or (an unknown field) in the message.
    expect(error.issues?.map((i) => `${i.path}: ${i.message}`).join("; ")).toContain(path);
    expect(error.message).toContain(path);
    expect((await api("GET", settingsOf(env))).body).toEqual(DEFAULT_ALERT_SETTINGS);
  });

  it("malformed JSON and an array body are 400, an unknown environment 404", async () => {
    const env = await createEnv("al-bad2");
    expect(
      errorOf(await api("PUT", settingsOf(env), { raw: "{", headers: { "content-type": "application/json" } })).code,
    ).toBe("MALFORMED_JSON");
    expect((await api("PUT", settingsOf(env), { body: [] })).status).toBe(400);
    const missing = `nope-${Date.now()}`;
    expect((await api("GET", settingsOf(missing))).status).toBe(404);
    expect((await api("PUT", settingsOf(missing), { body: {} })).status).toBe(404);
    expect((await api("GET", `/environments/${missing}/alerts`)).status).toBe(404);
  });

  it("GET alerts lists nothing before the first evaluation; a read-only token may read but not change settings", async () => {
    const env = await createEnv("al-read");
    const listed = await api("GET", `/environments/${env}/alerts`);
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual({ alerts: [], nextEvaluationAt: null, lastDataAt: null });
    const minted = await api("POST", "/tokens", { body: { role: "read", environments: [env] } });
    const token = minted.body.token as string;
    expect((await api("GET", settingsOf(env), { token })).status).toBe(200);
    expect((await api("GET", `/environments/${env}/alerts`, { token })).status).toBe(200);
    expect((await api("PUT", settingsOf(env), { token, body: { minRequests: 1 } })).status).toBe(403);
  });
});
