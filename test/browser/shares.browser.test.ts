import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, type SignedIn, type TestApp, totpCode } from "../harness.ts";
import { eligibleRecipient, type Recipient, relaxGate } from "../shares.fixtures.ts";

/**
 * Shares in a real browser: a developer makes an age key pair in the portal (the secret half only
 * ever downloaded), a security lead encrypts a text secret and a file in the browser to her, she
 * opens them (click to reveal, then an explicit download) and decrypts them in the page, and the
 * lead sees the download log and revokes.
 */
const CHROMIUM = process.env.WARDEN_CHROMIUM ?? "/usr/bin/chromium";
const ROOT = path.resolve(import.meta.dirname, "../..");

let t: TestApp;
let browser: Browser;
let lead: SignedIn;
let ana: Recipient;
let leadPage: Page;
let anaPage: Page;
let anaIdentity = "";
/** Screenshots of each step, for a human to look at. */
const shots = path.join(os.tmpdir(), "warden-browser-shares");
const shot = (page: Page, name: string) =>
  page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
const fileBytes = Buffer.alloc(300_000, 7).map((_, i) => (i * 31) % 256);

async function signInPage(who: SignedIn): Promise<Page> {
  const context: BrowserContext = await browser.newContext({
    ignoreHTTPSErrors: true,
    acceptDownloads: true,
    viewport: { width: 1280, height: 900 },
  });
  context.setDefaultTimeout(20_000);
  const page = await context.newPage();
  await page.goto(`${t.url}/sign-in`);
  await page.getByLabel(/^Email/).fill(who.email);
  await page.getByLabel(/^Password/).fill(who.password);
  await page.getByRole("button", { name: "Continue", exact: true }).click();
  await page.getByRole("heading", { level: 1, name: "Enter your code" }).waitFor();
  // The harness enrolled the authenticator at this instant: the next step's code is a fresh one.
  t.clock.advance(30_000);
  await page.getByLabel(/^Code/).fill(totpCode(who.totpSecret!, t.clock.now()));
  await page.getByRole("button", { name: "Verify", exact: true }).click();
  await page.getByRole("navigation", { name: "Main" }).waitFor();
  return page;
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}. Run .ci/install-deps.`);
  if (!existsSync(path.join(ROOT, "dist/web/index.html")))
    throw new Error("Build first: npm run build (npm run test:browser does it for you).");
  t = await createTestApp({ https: true, web: true, now: new Date().toISOString() });
  await relaxGate(t);
  lead = await t.signIn("security");
  ana = await eligibleRecipient(t, { categories: ["credentials", "source code"] });
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
  anaPage = await signInPage(ana);
  leadPage = await signInPage(lead);
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await t?.close();
}, 60_000);

describe("shares in the browser", () => {
  it("lets a developer create an age key pair in the page and register only its public half", async () => {
    await anaPage.getByRole("link", { name: "My shares", exact: true }).click();
    await anaPage.getByRole("heading", { level: 1, name: "My shares" }).waitFor();
    await anaPage.getByRole("button", { name: "Create a key pair in this browser" }).click();
    const recipient = (await anaPage.locator(".key-setup code").first().textContent()) ?? "";
    expect(recipient).toMatch(/^age1[02-9ac-hj-np-z]{58}$/);
    expect(await anaPage.getByRole("button", { name: "Register the public key" }).isDisabled()).toBe(true);
    const [download] = await Promise.all([
      anaPage.waitForEvent("download"),
      anaPage.getByRole("button", { name: "Download the identity file" }).click(),
    ]);
    anaIdentity = await readFile((await download.path())!, "utf8");
    expect(anaIdentity).toContain(`# public key: ${recipient}`);
    expect(anaIdentity).toMatch(/^AGE-SECRET-KEY-1[0-9A-Z]+$/m);
    await anaPage.getByRole("button", { name: "Register the public key" }).click();
    await anaPage.getByRole("status").filter({ hasText: "Your public key is registered" }).waitFor();
    await shot(anaPage, "01-key-registered");
    const profile = await ana.client.get("/api/v1/me/profile");
    expect(profile.body.ageRecipients).toContain(recipient);
    // The secret half never reached the server: no stored column holds it.
    const dump = await t.store.query<{ d: string }>("select row_to_json(d)::text as d from developers d");
    expect(dump.rows.map((r) => r.d).join("\n")).not.toContain(anaIdentity.match(/AGE-SECRET-KEY-1\w+/)![0]);
  });

  it("lets a lead encrypt a text secret and a file in the browser and send them", async () => {
    await leadPage.getByRole("link", { name: "Shares", exact: true }).click();
    await leadPage.getByRole("heading", { level: 1, name: "Shares" }).waitFor();
    const send = async (kind: "text" | "file") => {
      await leadPage.getByRole("checkbox", { name: "Dev" }).first().check();
      await leadPage.locator(".recipient-checks").getByText("ready").waitFor();
      await leadPage.getByLabel(/^Data categories/).fill(kind === "text" ? "credentials" : "source code");
      await leadPage.getByLabel(/^What to send/).selectOption(kind);
      if (kind === "text") await leadPage.getByLabel(/^Secret/).fill("postgres://app:hunter2@db/prod");
      else
        await leadPage.getByLabel("File", { exact: true }).setInputFiles({
          name: "schema.sql",
          mimeType: "application/sql",
          buffer: Buffer.from(fileBytes),
        });
      if (kind === "text") await leadPage.getByLabel(/^One-time/).check();
      await leadPage.getByRole("button", { name: "Encrypt and send" }).click();
      await leadPage.getByRole("status").filter({ hasText: "Sent." }).waitFor();
    };
    await send("text");
    await send("file");
    const sent = (await lead.client.get("/api/v1/shares")).body.items;
    expect(sent.map((s: { kind: string; status: string }) => `${s.kind}:${s.status}`).sort()).toEqual([
      "file:ready",
      "text:ready",
    ]);
  });

  it("reveals a share only on an explicit click and decrypts it in the page", async () => {
    await anaPage.reload();
    const text = anaPage.locator(".share-item", { hasText: "Text secret" });
    await text.getByRole("button", { name: "Open" }).click();
    await text.getByLabel(/^Your identity/).fill(anaIdentity);
    // Opening showed the metadata only: nothing was downloaded yet.
    const before = (await ana.client.get("/api/v1/me/shares")).body.items;
    expect(before.every((s: { downloads: number }) => s.downloads === 0)).toBe(true);
    await text.getByRole("button", { name: /^Download and decrypt/ }).click();
    await text.locator(".secret pre").filter({ hasText: "postgres://app:hunter2@db/prod" }).waitFor();
    await shot(anaPage, "02-inbox-revealed");

    const file = anaPage.locator(".share-item", { hasText: "schema.sql" });
    await file.getByRole("button", { name: "Open" }).click();
    await file.getByLabel(/^Your identity/).fill(anaIdentity);
    const [download] = await Promise.all([
      anaPage.waitForEvent("download"),
      file.getByRole("button", { name: /^Download and decrypt/ }).click(),
    ]);
    expect(download.suggestedFilename()).toBe("schema.sql");
    expect((await readFile((await download.path())!)).equals(Buffer.from(fileBytes))).toBe(true);
  });

  it("shows the lead the download log with its timeline, and revokes", async () => {
    await leadPage.reload();
    await leadPage.getByRole("link", { name: "schema.sql" }).click();
    await leadPage.getByRole("heading", { level: 1, name: "schema.sql" }).waitFor();
    await leadPage.locator("table").getByText("completed").waitFor();
    expect(await leadPage.locator("figure.timeline svg circle").count()).toBe(1);
    await shot(leadPage, "03-share-detail");
    leadPage.once("dialog", (d) => d.accept());
    await leadPage.getByRole("button", { name: "Revoke" }).click();
    await leadPage.getByText("ciphertext deleted").waitFor();
  });
});
