import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { canonicalize } from "json-canonicalize";
import {
  type APIRequestContext,
  type Browser,
  type BrowserContext,
  chromium,
  type Page,
  request,
} from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseSshdMessage } from "../../src/ingest/index.ts";
import { parseVerifierKey, verifyTlogProof } from "../../src/tlog/index.ts";
import { createTestApp, type SignedIn, type TestApp, totpCode } from "../harness.ts";

/**
 * Events and alerts in a real browser, as a security lead uses them: events sent by a Git server's
 * hooks and an SSH bastion arrive through the ingest API with an ingest token; the lead searches the
 * log with a filter, opens an event and checks its inclusion receipt, reads a developer's heat map
 * where a 2 AM session stands out, finds the alert a burst of failed logins raised on the timeline
 * picture, acknowledges, assigns and annotates it, and tunes a rule after replaying it over the past.
 */
const CHROMIUM = process.env.WARDEN_CHROMIUM ?? "/usr/bin/chromium";
const ROOT = path.resolve(import.meta.dirname, "../..");
const ATTACKER = "203.0.113.9";
const HOUR = 3_600_000;

let t: TestApp;
let browser: Browser;
let lead: SignedIn;
let page: Page;
let ingest: APIRequestContext;
let kenji: { id: string };
/** 02:00 in Tokyo (UTC+9, no DST) on a recent day: off hours for someone working 09:00–18:00 there. */
let twoAmTokyo: number;
/** A SIEM's HTTP intake: keeps what it is sent, answers with `siemStatus`. */
let siem: Server;
let siemStatus = 400;
const siemBodies: string[] = [];
/** Screenshots of each step, for a human to look at. */
const shots = path.join(os.tmpdir(), "warden-browser-alerts");
const shot = (name: string) => page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });

async function signInPage(who: SignedIn): Promise<Page> {
  const context: BrowserContext = await browser.newContext({
    ignoreHTTPSErrors: true,
    acceptDownloads: true,
    viewport: { width: 1280, height: 900 },
  });
  context.setDefaultTimeout(20_000);
  const p = await context.newPage();
  await p.goto(`${t.url}/sign-in`);
  await p.getByLabel(/^Email/).fill(who.email);
  await p.getByLabel(/^Password/).fill(who.password);
  await p.getByRole("button", { name: "Continue", exact: true }).click();
  await p.getByRole("heading", { level: 1, name: "Enter your code" }).waitFor();
  // The harness enrolled the authenticator at this instant: the next step's code is a fresh one.
  t.clock.advance(30_000);
  await p.getByLabel(/^Code/).fill(totpCode(who.totpSecret!, t.clock.now()));
  await p.getByRole("button", { name: "Verify", exact: true }).click();
  await p.getByRole("navigation", { name: "Main" }).waitFor();
  return p;
}

/** Sends NDJSON to the ingest API over HTTPS, as a Git server or a log shipper would. */
async function send(records: unknown[]) {
  const r = await ingest.post("/api/v1/ingest/events", {
    headers: { "content-type": "application/x-ndjson" },
    data: `${records.map((x) => JSON.stringify(x)).join("\n")}\n`,
  });
  expect(r.status(), await r.text()).toBe(200);
  // Acknowledged once durable; the rules run right after, and store their alerts within a second.
  for (let i = 0; i < 3; i++) {
    await t.app.eventLog.writer.idle();
    await t.app.alerts.detection.idle();
  }
  return r.json();
}

const panel = (title: string) =>
  page.locator("section.panel", { has: page.getByRole("heading", { level: 2, name: title, exact: true }) });

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}. Run .ci/install-deps.`);
  if (!existsSync(path.join(ROOT, "dist/web/index.html")))
    throw new Error("Build first: npm run build (npm run test:browser does it for you).");
  await mkdir(shots, { recursive: true });
  siem = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => {
      body += c.toString();
    });
    req.on("end", () => {
      siemBodies.push(body);
      res.statusCode = siemStatus;
      res.end();
    });
  });
  await new Promise<void>((r) => siem.listen(0, "127.0.0.1", r));
  // The server's clock starts at the real time: the browser asks for "the last 7 days" by its own.
  const now = Date.now();
  t = await createTestApp({ https: true, web: true, now: new Date(now).toISOString() });
  lead = await t.signIn("security");
  kenji = await t.buildDeveloper({
    fullName: "Kenji Sato",
    timeZone: "Asia/Tokyo",
    workingHours: { start: "09:00", end: "18:00", days: [1, 2, 3, 4, 5, 6, 7] },
    gitUsernames: { github: "kenji-gh" },
  });
  const day = new Date(now - 2 * 86_400_000);
  twoAmTokyo = Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate(), 17);
  const token = await lead.client.post("/api/v1/tokens", {
    name: "git server and bastion",
    scopes: ["ingest"],
    expiresInDays: 30,
  });
  expect(token.status).toBe(201);
  ingest = await request.newContext({
    baseURL: t.url,
    ignoreHTTPSErrors: true,
    extraHTTPHeaders: { authorization: `Bearer ${token.body.secret}` },
  });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--disable-background-networking",
    ],
  });
  page = await signInPage(lead);
}, 600_000);

afterAll(async () => {
  await ingest?.dispose();
  await browser?.close();
  await t?.close();
  await new Promise<void>((r) => (siem ? siem.close(() => r()) : r()));
}, 60_000);

describe("events and alerts in the browser", () => {
  it("takes a Git server's and a bastion's events through the ingest API with an ingest token", async () => {
    const fetch = (n: number, at: number) => ({
      source: "git-hook",
      source_event_id: `fetch-${n}`,
      type: "git.fetch",
      phase: "complete",
      time: new Date(at).toISOString(),
      host: "git.acme.example",
      repo: "acme/app",
      user: "kenji-gh",
      remote_ip: "198.51.100.20",
      transport: "ssh",
      refs: [],
    });
    // Kenji fetches at 10:00 and 11:00 his time, and once at 02:00.
    const hooks = await send([
      fetch(1, twoAmTokyo + 8 * HOUR),
      fetch(2, twoAmTokyo + 9 * HOUR),
      fetch(3, twoAmTokyo),
    ]);
    expect(hooks.accepted).toBe(3);
    // Twelve failed passwords for root from one address within a minute, an hour ago.
    const start = t.clock.now().getTime() - HOUR;
    const failures = Array.from({ length: 12 }, (_, i) => {
      const e = parseSshdMessage({
        message: `Failed password for root from ${ATTACKER} port ${40_000 + i} ssh2`,
        time: start + i * 4_000,
        hostname: "bastion",
      })!;
      e.metadata.uid = randomUUID();
      return { source: "ocsf", event: e };
    });
    await send(failures);
    const alerts = (await lead.client.get("/api/v1/alerts?ruleId=failed-login-burst")).body.items;
    expect(alerts.length).toBeGreaterThan(0);
  });

  it("searches the log with a filter and shows an event with a receipt that verifies", async () => {
    await page.getByRole("link", { name: "Events", exact: true }).click();
    await page.getByRole("heading", { level: 1, name: "Events" }).waitFor();
    const address = page.getByLabel("Source address");
    await address.fill(ATTACKER);
    await address.press("Enter");
    await page.waitForURL(/sourceIp=203\.0\.113\.9/);
    const rows = page.locator("table tbody tr");
    await expect.poll(() => rows.count()).toBe(12);
    for (const text of await rows.allTextContents()) {
      expect(text).toContain(ATTACKER);
      expect(text).toContain("failure");
    }
    await page.getByLabel("Outcome").selectOption("success");
    await page.getByText("No event matches these filters.").waitFor();
    await page.getByLabel("Outcome").selectOption("failure");
    await expect.poll(() => rows.count()).toBe(12);
    await shot("01-events-filtered");

    await rows.first().getByRole("link").first().click();
    await page.getByRole("heading", { level: 2, name: "Proof that it is in the log" }).waitFor();
    const proof = panel("Proof that it is in the log");
    await expect
      .poll(() => proof.getByRole("img").getAttribute("aria-label"))
      .toMatch(/^Inclusion proof: \d+ sibling hashes from leaf \d+ up to the root$/);
    await shot("02-event-proof");
    const id = page.url().split("/").pop()!;
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      proof.getByRole("link", { name: "Download receipt" }).click(),
    ]);
    const receipt = await readFile((await download.path())!, "utf8");
    // Checked here with the log's public key and the entry alone, as an auditor would.
    const detail = (await lead.client.get(`/api/v1/events/${id}`)).body;
    expect(detail.srcIp).toBe(ATTACKER);
    const verifier = parseVerifierKey(String((await t.client().get("/log/key")).body).trim());
    const checked = verifyTlogProof(receipt, new TextEncoder().encode(canonicalize(detail.entry)), verifier);
    expect(checked.index).toBe(detail.index);
  });

  it("draws the developer's hour × weekday heat map in Tokyo time, where the 02:00 fetch stands out", async () => {
    await page.goto(`${t.url}/events?developerId=${kenji.id}`);
    // His three fetches, and the record of his developer file being created.
    const fetches = page.locator("table tbody tr", { hasText: "acme/app" });
    await expect.poll(() => fetches.count()).toBe(3);
    await fetches.first().getByRole("link", { name: "Kenji Sato" }).click();
    await page.getByRole("heading", { level: 1, name: "Kenji Sato: activity" }).waitFor();
    const weekday = new Date(twoAmTokyo + 9 * HOUR).toLocaleDateString("en-GB", {
      weekday: "short",
      timeZone: "UTC",
    });
    const heat = page.locator("figure.heatmap");
    await expect
      .poll(() => heat.getByRole("img").getAttribute("aria-label"))
      .toMatch(
        new RegExp(
          `^3 events by Kenji Sato, Asia/Tokyo\\. Activity outside working hours: ${weekday} 02:00 \\(1\\)\\.$`,
        ),
      );
    // The off-hours cell is outlined in red; the working-hours cells are not.
    const outlined = heat.locator('rect[stroke="#b42318"]');
    expect(await outlined.count()).toBe(2); // the 02:00 cell and the legend's sample
    expect(await outlined.first().locator("title").textContent()).toBe(
      `${weekday} 02:00–02:59: 1 event (outside working hours)`,
    );
    expect(await heat.locator("figcaption").textContent()).toContain("working hours 09:00–18:00");
    // The timeline below groups his day in his own time zone.
    const days = panel("Timeline (days in Asia/Tokyo)");
    await expect.poll(() => days.locator("tbody tr", { hasText: "acme/app" }).count()).toBe(3);
    await shot("03-heatmap");
  });

  it("shows the alerts on the timeline picture and filters the list to the hour picked", async () => {
    await page.getByRole("link", { name: "Alerts", exact: true }).click();
    await page.getByRole("heading", { level: 1, name: "Alerts" }).waitFor();
    const picture = page.locator("figure.alert-timeline");
    await expect
      .poll(() => picture.getByRole("img").getAttribute("aria-label"))
      .toMatch(/^Alerts opened per hour \(UTC\) from .*: \d+ in all$/);
    const burstHour = new Date(Math.floor((t.clock.now().getTime() - HOUR) / HOUR) * HOUR);
    const label = `${burstHour.toISOString().slice(0, 13).replace("T", " ")}:00 UTC`;
    const bar = picture.locator("g.alert-timeline-bar", {
      has: page.locator(`title:text-matches("^${label}")`),
    });
    expect(await bar.locator("title").textContent()).toMatch(/\d+ high/);
    expect(await picture.locator("figcaption").textContent()).toMatch(/high \([1-9]\d*\)/);
    await shot("04-alerts");
    await bar.click();
    await page.waitForURL((u) => u.searchParams.get("from") === burstHour.toISOString());
    expect(new URL(page.url()).searchParams.get("to")).toBe(
      new Date(burstHour.getTime() + HOUR).toISOString(),
    );
    // Only the hour's alerts are listed: the burst, not the off-hours fetch of two days ago.
    const rows = page.locator("table tbody tr");
    await expect.poll(() => rows.first().textContent()).toContain("Burst of failed logins");
    for (const text of await rows.allTextContents()) expect(text).not.toContain("working hours");
    await page.getByRole("button", { name: /^Clear hour/ }).click();
    await page.waitForURL((u) => !u.searchParams.has("from") && !u.searchParams.has("to"));
    await expect
      .poll(() =>
        page.locator("table tbody tr", { hasText: "outside the developer's working hours" }).count(),
      )
      .toBe(1);
  });

  it("lets the lead acknowledge, assign and annotate the alert, with its events linked to the log", async () => {
    await page
      .locator("table tbody tr", { hasText: "Burst of failed logins" })
      .first()
      .getByRole("link")
      .first()
      .click();
    await page.getByRole("heading", { level: 1, name: "Burst of failed logins" }).waitFor();
    const id = page.url().split("/").pop()!;
    const events = panel(
      (await page.getByRole("heading", { level: 2, name: /^Events behind this alert/ }).textContent()) ?? "",
    );
    expect(await events.locator("tbody tr").first().textContent()).toContain(`from ${ATTACKER}`);

    await page.getByLabel(/^Comment for the change/).fill("Looking into the bastion");
    await page.getByRole("button", { name: "Acknowledge", exact: true }).click();
    await panel("Facts").getByText("Acknowledged", { exact: true }).waitFor();
    await page.getByLabel("Assignee").selectOption(lead.userId);
    const name = (await lead.client.get(`/api/v1/alerts/${id}`)).body.assignee.name;
    await panel("Facts").getByText(name, { exact: true }).waitFor();
    await page.getByLabel("Note", { exact: true }).fill("Address belongs to a scanner; blocked at the edge.");
    await page.getByRole("button", { name: "Add note", exact: true }).click();
    const timeline = panel("Timeline");
    await timeline.getByText("Address belongs to a scanner; blocked at the edge.").waitFor();
    const story = (await timeline.textContent()) ?? "";
    expect(story).toContain("changed the status from open to acknowledged");
    expect(story).toContain("Looking into the bastion");
    await shot("05-alert-worked");

    const stored = (await lead.client.get(`/api/v1/alerts/${id}`)).body;
    expect(stored.status).toBe("acknowledged");
    expect(stored.assignee.id).toBe(lead.userId);
    expect(stored.activity.map((a: { kind: string }) => a.kind)).toEqual(
      expect.arrayContaining(["opened", "status", "assign", "note"]),
    );
    // The event links open the event's page in the log.
    await events.locator("tbody tr").first().getByRole("link").click();
    await page.getByRole("heading", { level: 2, name: "Proof that it is in the log" }).waitFor();
  });

  it("replays a changed rule over past events before saving it", async () => {
    await page.goto(`${t.url}/alerts/rules`);
    await page.getByRole("heading", { level: 1, name: "Alert rules" }).waitFor();
    const threshold = page.getByLabel("failures that raise the alert");
    expect(await threshold.inputValue()).toBe("10");
    const tester = panel("Test against past events");
    const outcome = tester.getByRole("status").locator("p").first();
    await threshold.fill("20");
    await tester.getByRole("button", { name: "Test the rules" }).click();
    await expect.poll(() => outcome.textContent(), { timeout: 20_000 }).toMatch(/^\d+ events replayed/);
    expect(await outcome.textContent()).not.toContain("failed-login-burst");
    await threshold.fill("5");
    await tester.getByRole("button", { name: "Test the rules" }).click();
    await expect.poll(() => outcome.textContent(), { timeout: 20_000 }).toMatch(/failed-login-burst \d+/);
    expect(await tester.locator("tbody").textContent()).toContain("Burst of failed logins");
    await shot("06-rules-replay");
    // Replaying stored nothing.
    const before = (await lead.client.get("/api/v1/alerts?status=open,acknowledged,resolved")).body.total;

    await page.getByRole("button", { name: "Save rules" }).click();
    await page
      .getByRole("status")
      .filter({ hasText: /^Saved at .* on every node\.$/ })
      .waitFor();
    const saved = (await lead.client.get("/api/v1/alerts/rules")).body;
    expect(saved.settings.builtin.failedLoginBurst).toMatchObject({ threshold: 5 });
    expect((await lead.client.get("/api/v1/alerts?status=open,acknowledged,resolved")).body.total).toBe(
      before,
    );
    await page.reload();
    await expect.poll(() => page.getByLabel("failures that raise the alert").inputValue()).toBe("5");
  });
  it("forwards alerts to a SIEM, shows a refused batch as a dead letter and sends it again", async () => {
    await page.goto(`${t.url}/alerts`);
    await page.getByRole("link", { name: "SIEM forwarding" }).click();
    await page.getByRole("heading", { level: 1, name: "SIEM forwarding" }).waitFor();
    await page.getByText("Nothing is forwarded yet.").waitFor();
    await page.getByLabel("Kind").selectOption("ecs_http");
    await page.getByLabel("Name").fill("Elastic (alerts)");
    await page.getByLabel("URL").fill(`http://127.0.0.1:${(siem.address() as AddressInfo).port}/_bulk`);
    await page.getByLabel(/^Only these OCSF classes/).fill("2004");
    await page.getByRole("button", { name: "Add destination" }).click();
    await page.getByRole("status").filter({ hasText: "Destination added." }).waitFor();
    const row = panel("Destinations").locator("tbody tr", { hasText: "Elastic (alerts)" });
    expect(await row.textContent()).toContain("Forwarding");

    // A new burst raises an alert; the SIEM refuses the batch for good (HTTP 400).
    const start = t.clock.now().getTime();
    await send(
      Array.from({ length: 6 }, (_, i) => {
        const e = parseSshdMessage({
          message: `Failed password for admin from 203.0.113.77 port ${41_000 + i} ssh2`,
          time: start + i * 2_000,
          hostname: "bastion",
        })!;
        e.metadata.uid = randomUUID();
        return { source: "ocsf", event: e };
      }),
    );
    await t.app.scheduler.runNow("siem.forward");
    await page.reload();
    const letter = panel("Dead letters").locator("tbody tr", { hasText: "Elastic (alerts)" });
    await letter.waitFor();
    expect(await letter.textContent()).toMatch(/400.*after 1 try/);
    expect(await letter.textContent()).toContain("Dead");
    await letter.getByText("What was sent").click();
    const preview = (await letter.locator("pre").textContent()) ?? "";
    expect(preview).toContain('"kind":"alert"');
    expect(preview).toContain('"action":"alert-opened"');
    expect(await row.textContent()).toContain("Last batch dead-lettered");
    await shot("07-dead-letter");

    siemStatus = 200;
    await letter.getByRole("button", { name: "Send again" }).click();
    await page.getByRole("status").filter({ hasText: "The batch went to Elastic (alerts)." }).waitFor();
    await expect.poll(async () => letter.textContent()).toMatch(/Delivered/);
    const delivered = siemBodies
      .at(-1)!
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    // One alert per address and one per account: both opened, both sent again.
    expect(delivered.map((d: any) => [d.event.kind, d.event.action, d.rule.id])).toEqual([
      ["alert", "alert-opened", "failed-login-burst"],
      ["alert", "alert-opened", "failed-login-burst"],
    ]);
  });
});
