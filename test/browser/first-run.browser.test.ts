import { type ChildProcess, spawn } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { Secret, TOTP } from "otpauth";
import { type BrowserContext, chromium, type Locator, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GithubFake, startGithubFake } from "../fakes/github-fake.ts";

/**
 * The first run, as a person does it in a real browser against a real `warden serve`: create the first
 * admin with an authenticator, record a vendor, a developer, an engagement, an NDA with its signed PDF
 * (and the other agreements and training the default gate asks for), vet the developer, and watch the
 * gate turn green; then read a file scan report sent for the vendor. Screenshots of each step land in
 * the temp directory for a human to look at.
 */

const CHROMIUM = process.env.WARDEN_CHROMIUM ?? "/usr/bin/chromium";
const ROOT = path.resolve(import.meta.dirname, "../..");
const shots = path.join(os.tmpdir(), "warden-browser");

let server: ChildProcess | undefined;
let dataDir = "";
let profileDir = "";
let browser: BrowserContext | undefined;
let page: Page;
let setupLink = "";
let totp: TOTP;
/** A local server following GitHub's collaborator endpoints: the target of the access connector. */
let gh: GithubFake;
const GH_TOKEN = "ghp_browser_test_token_0123456789";
const log: string[] = [];

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });

/** Starts `node dist/warden.js serve` and waits for the one-time setup link it prints. */
async function startServer(): Promise<void> {
  dataDir = await mkdtemp(path.join(os.tmpdir(), "warden-browser-data-"));
  const port = await freePort();
  server = spawn(process.execPath, [path.join(ROOT, "dist/warden.js"), "serve"], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? os.tmpdir(),
      WARDEN_DATA_DIR: dataDir,
      WARDEN_PORT: String(port),
      WARDEN_HOST: "127.0.0.1",
      WARDEN_LOG_LEVEL: "warn",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const stopped = new Promise<never>((_, reject) =>
    server?.once("exit", (code) => reject(new Error(`warden serve exited (${code}):\n${log.join("")}`))),
  );
  const linked = new Promise<void>((resolve) => {
    const onData = (chunk: Buffer) => {
      log.push(chunk.toString());
      const m = /(https:\/\/\S+)\/setup#token=(\S+)/.exec(log.join(""));
      if (m) {
        setupLink = m[0];
        resolve();
      }
    };
    server?.stdout?.on("data", onData);
    server?.stderr?.on("data", (c: Buffer) => log.push(c.toString()));
  });
  await Promise.race([linked, stopped]);
}

async function shot(name: string) {
  await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
}

/** A code for the next TOTP step, so the same code is never sent twice (the server refuses replays). */
const lastCodes = new Map<TOTP, string>();
async function nextCode(of: TOTP = totp): Promise<string> {
  for (;;) {
    const code = of.generate();
    if (code !== lastCodes.get(of)) {
      lastCodes.set(of, code);
      return code;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** A small, valid one-page PDF. */
function samplePdf(): Buffer {
  const objects = [
    "<< /Type /Catalog /Pages 2 0 R >>",
    "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] /Contents 4 0 R /Resources << >> >>",
  ];
  const stream = "BT /F1 12 Tf 20 50 Td (Signed NDA) Tj ET";
  objects.push(`<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`);
  let body = "%PDF-1.4\n";
  const offsets: number[] = [];
  objects.forEach((o, i) => {
    offsets.push(body.length);
    body += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = body.length;
  body += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const off of offsets) body += `${String(off).padStart(10, "0")} 00000 n \n`;
  body += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(body, "latin1");
}

/** Retries an assertion until it holds (the UI updates after requests), then gives its last error. */
async function eventually(check: () => Promise<void>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (e) {
      if (Date.now() > end) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
const hasText = (loc: Locator, text: string | RegExp) =>
  eventually(async () => {
    const t = (await loc.first().textContent()) ?? "";
    if (typeof text === "string") expect(t).toContain(text);
    else expect(t).toMatch(text);
  });
const lacksText = (loc: Locator, text: string) =>
  eventually(async () => expect((await loc.first().textContent()) ?? "").not.toContain(text));
const visible = (loc: Locator) => loc.first().waitFor({ state: "visible" });

const heading = (name: string) => page.getByRole("heading", { level: 1, name });
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
/** The input labelled exactly `label` (a required field's label ends with "(required)"). */
const field = (label: string) => page.getByLabel(new RegExp(`^${escapeRe(label)}\\s*(\\(required\\))?$`));
const button = (name: string) => page.getByRole("button", { name, exact: true });
const isoDay = (offsetDays: number) =>
  new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}. Run .ci/install-deps (apt-get install -y chromium).`);
  }
  if (!existsSync(path.join(ROOT, "dist/warden.js")) || !existsSync(path.join(ROOT, "dist/web/index.html"))) {
    throw new Error("Build first: npm run build (npm run test:browser does it for you).");
  }
  await rm(shots, { recursive: true, force: true });
  profileDir = await mkdtemp(path.join(os.tmpdir(), "warden-chromium-"));
  // A fresh profile directory (playwright passes it as --user-data-dir); started while the server boots.
  const launching = chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    ignoreHTTPSErrors: true,
    viewport: { width: 1280, height: 900 },
  });
  gh = await startGithubFake({ token: GH_TOKEN, owner: "acme", repo: "checkout" });
  const [launched, started] = await Promise.allSettled([launching, startServer()]);
  if (launched.status === "fulfilled") browser = launched.value;
  if (launched.status === "rejected") throw launched.reason;
  if (started.status === "rejected") throw started.reason;
  const context = launched.value;
  context.setDefaultTimeout(20_000);
  page = await context.newPage();
  page.on("pageerror", (e) => log.push(`pageerror: ${e.message}\n`));
}, 600_000);

afterAll(async () => {
  await gh?.close();
  await browser?.close();
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server?.once("exit", r));
    server.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    if (server.exitCode === null) server.kill("SIGKILL");
  }
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  if (profileDir) await rm(profileDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
}, 60_000);

describe("first run in a browser", () => {
  it("creates the first admin with an authenticator and recovery codes", async () => {
    await page.goto(setupLink);
    await heading("Set up Warden").waitFor();
    await field("Email").fill("ada@example.com");
    await field("Name").fill("Ada Admin");
    await field("Password").fill("too short");
    await field("Repeat password").fill("too short");
    await button("Create administrator").click();
    // The server's validation shows in a summary and beside the field.
    await hasText(page.getByRole("alert").first(), "Password");
    await hasText(page.locator(".field-invalid").first(), "at least 12 characters");
    await shot("01-setup-error");

    await field("Password").fill("correct horse battery staple");
    await field("Repeat password").fill("correct horse battery staple");
    await button("Create administrator").click();
    await heading("Set up your authenticator").waitFor();
    const qr = page.getByRole("img", { name: /QR code/ });
    await qr.waitFor();
    expect(await qr.getAttribute("src")).toMatch(/^data:image\/svg\+xml;base64,/);
    const secret = await page.locator("[data-secret]").getAttribute("data-secret");
    expect(secret).toMatch(/^[A-Z2-7]+=*$/);
    totp = new TOTP({ secret: Secret.fromBase32(secret!), digits: 6, period: 30 });
    await shot("02-enrol");
    await field("Code from the app").fill(await nextCode());
    await button("Turn on").click();

    await heading("Save your recovery codes").waitFor();
    expect(
      await page.getByRole("list", { name: "Recovery codes" }).getByRole("listitem").count(),
    ).toBeGreaterThan(4);
    expect(await button("Continue to Warden").isDisabled()).toBe(true);
    await field("I saved these codes somewhere safe").check();
    await button("Continue to Warden").click();
    await heading("Dashboard").waitFor();
    await shot("03-dashboard-empty");
  });

  it("signs out and back in with a TOTP code", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await heading("Sign in").waitFor();
    await field("Email").fill("ada@example.com");
    await field("Password").fill("correct horse battery staple");
    await button("Continue").click();
    await heading("Enter your code").waitFor();
    await field("Code").fill(await nextCode());
    await button("Verify").click();
    await heading("Dashboard").waitFor();
  });

  it("records a vendor", async () => {
    await page.getByRole("link", { name: "Vendors", exact: true }).click();
    await heading("Vendors").waitFor();
    await page.getByRole("link", { name: "New vendor" }).click();
    await heading("New vendor").waitFor();
    await field("Name").fill("Acme Outsourcing");
    await field("Country").fill("pl");
    await field("Risk tier").selectOption("medium");
    await field("Day rate").fill("450");
    await field("Market band, low").fill("400");
    await field("Market band, high").fill("700");
    await button("Create vendor").click();
    await heading("Acme Outsourcing").waitFor();
    await shot("04-vendor");
  });

  it("records a developer of that vendor, not yet eligible, with the reasons", async () => {
    await page.getByRole("link", { name: "Developers", exact: true }).click();
    await page.getByRole("link", { name: "New developer" }).click();
    await heading("New developer").waitFor();
    await field("Full name").fill("Dana Developer");
    await field("Email").fill("dana@acme.example");
    await field("Vendor").selectOption({ label: "Acme Outsourcing" });
    await field("Country").fill("PL");
    await field("Time zone").fill("Europe/Warsaw");
    await field("GitHub username").fill("dana-dev");
    await button("Create developer").click();
    await heading("Dana Developer").waitFor();
    const gate = page.locator("section.eligibility");
    await hasText(gate, "Not eligible");
    await hasText(gate, "No active engagement");
    await shot("05-developer-not-eligible");
  });

  it("adds an engagement", async () => {
    await page.getByRole("link", { name: "New engagement" }).click();
    await heading("New engagement").waitFor();
    await field("Title").fill("Checkout rewrite");
    await field("Starts on").fill(isoDay(-7));
    await field("Ends on").fill(isoDay(180));
    await page.getByRole("checkbox", { name: "Frontend" }).check();
    await button("Create engagement").click();
    await heading("Dana Developer").waitFor();
    await lacksText(page.locator("section.eligibility"), "No active engagement");
  });

  it("records an NDA, uploads its signed PDF and activates it", async () => {
    await addAgreement("nda", "NDA Dana 2026");
    await shot("06-nda-uploaded");
    // The other agreement the default gate requires.
    await addAgreement("ip_assignment", "IP assignment Dana");
  });

  it("records the required training", async () => {
    await page.getByRole("link", { name: "Developers", exact: true }).click();
    await page.getByRole("link", { name: "Dana Developer" }).click();
    await heading("Dana Developer").waitFor();
    await page.locator("summary", { hasText: "Record a completed course" }).click();
    await field("Course").fill("security-awareness");
    await field("Score (0–100)").fill("92");
    await button("Add record").click();
    await visible(page.locator("section.panel", { hasText: "Training" }).getByText("security-awareness"));
  });

  it("vets the developer and the gate turns green", async () => {
    await page.getByRole("link", { name: "Vetting", exact: true }).click();
    await heading("Vetting: Dana Developer").waitFor();
    await field("Provider").fill("Checkr");
    await field("Result").selectOption("clear");
    await field("Completed on").fill(isoDay(-3));
    await field("Score (0–100)").fill("91");
    await field("Taken on").fill(isoDay(-3));
    await field("Outcome").selectOption("pass");
    await button("Save checks").click();
    // The page reloads the vetting record after a save; wait for it to settle before opening more forms.
    await visible(page.getByText("Background check on file: Clear."));

    await page.locator("summary", { hasText: "Add a reference" }).click();
    await page
      .locator("details", { hasText: "Add a reference" })
      .getByLabel(/^Name\s*(\(required\))?$/)
      .fill("Rita Referee");
    await field("Company").fill("Previous Corp");
    await button("Add reference").click();
    await button("Mark Rita Referee verified").click();
    await visible(page.getByText(/verified by .* on/));

    await field("Decision").selectOption("approved");
    await field("Reason").fill("Checks clear, references verified");
    await button("Record decision").click();
    await hasText(page.getByText("Current decision:"), "Approved");

    const gate = page.locator("section.eligibility");
    await hasText(gate.locator(".badge"), /^✓?\s*Eligible$/);
    await shot("07-vetting-eligible");

    await page.getByRole("link", { name: "Dashboard", exact: true }).click();
    await heading("Dashboard").waitFor();
    await visible(page.getByText("Every developer meets the requirements today."));
    await shot("08-dashboard-green");
  });

  it("shows the audit trail, verifies its chain, and filters it", async () => {
    await page.getByRole("link", { name: "Audit", exact: true }).click();
    await heading("Audit trail").waitFor();
    await visible(page.locator("table.audit-table").getByText("vendor.create", { exact: true }));
    await button("Verify the trail").click();
    await hasText(page.getByTestId("audit-verify-result"), "The trail is intact.");
    await page.getByLabel("Action starts with").fill("agreement.");
    await button("Apply").click();
    await eventually(async () => {
      const actions = await page.locator("table.audit-table td code").allTextContents();
      expect(actions.length).toBeGreaterThan(0);
      expect(actions.every((a) => a.startsWith("agreement."))).toBe(true);
    });
    await shot("09-audit");
  });

  it("changes a gate requirement in settings and sees the background jobs", async () => {
    await page.getByRole("link", { name: "Settings", exact: true }).click();
    await heading("Settings").waitFor();
    await field("Security-awareness pass mark").fill("95");
    await button("Save requirements").click();
    await visible(page.getByText("Saved."));
    // Dana scored 91: below the new mark, the gate closes and says why.
    await page.getByRole("link", { name: "Dashboard", exact: true }).click();
    await heading("Dashboard").waitFor();
    await hasText(page.locator("section.panel", { hasText: "Not eligible" }), "Dana Developer");
    await page.getByRole("link", { name: "Settings", exact: true }).click();
    await field("Security-awareness pass mark").fill("80");
    await button("Save requirements").click();
    await visible(page.getByText("Saved."));

    await page.getByRole("link", { name: "Background jobs" }).click();
    await heading("Background jobs").waitFor();
    await shot("10-jobs");
  });

  it("lists a file scan report sent for the vendor and shows its findings, redacted", async () => {
    // What `warden scan files . --report --vendor ID` sends, posted from the signed-in page itself.
    const sent = await page.evaluate(async () => {
      const session = await (await fetch("/api/v1/auth/session")).json();
      const vendors = await (await fetch("/api/v1/vendors?q=Acme")).json();
      const now = new Date().toISOString();
      const res = await fetch("/api/v1/scans/files/reports", {
        method: "POST",
        headers: { "content-type": "application/json", "x-csrf-token": session.csrfToken },
        body: JSON.stringify({
          schema: "warden.scan.files/v1",
          tool: { name: "warden", version: "0.1.0" },
          startedAt: now,
          finishedAt: now,
          targets: ["checkout-service"],
          mode: "files",
          redacted: true,
          vendorId: vendors.items[0].id,
          stats: {
            files: 412,
            bytes: 3_145_728,
            binarySkipped: 3,
            encrypted: 1,
            rules: 253,
            durationMs: 80,
            baselineSuppressed: 0,
          },
          findings: [
            {
              type: "secret",
              ruleId: "github-pat",
              title: "GitHub personal access token",
              severity: "high",
              path: "src/config.ts",
              line: 12,
              column: 18,
              secret: "ghp_********…(40 chars)",
              snippet: 'const token = "ghp_********…(40 chars)";',
              fingerprint: "0123456789abcdef0123456789abcdef",
            },
            {
              type: "sensitive-file",
              ruleId: "dotenv-file",
              title: "Environment file with secret values",
              severity: "medium",
              path: ".env",
              line: 1,
              column: 1,
              secret: "",
              snippet: "",
              fingerprint: "fedcba9876543210fedcba9876543210",
              detail: "2 secret-like variables with values (DB_PASSWORD, API_KEY)",
            },
          ],
          skipped: [
            {
              path: "vendor/bundle.min.js",
              reason: "single line longer than 1 MiB (generated or minified): not scanned",
            },
          ],
        }),
      });
      return res.status;
    });
    expect(sent).toBe(201);
    await page.getByRole("link", { name: "File scans", exact: true }).click();
    await heading("File scans").waitFor();
    const row = page.getByRole("row", { name: /Acme Outsourcing/ });
    await hasText(row, "checkout-service");
    await hasText(row, "1 high");
    await row.getByRole("link").first().click();
    await heading("Scan of checkout-service").waitFor();
    await visible(page.getByRole("img", { name: "Findings by severity: 1 high, 1 medium, 0 low" }));
    await visible(page.getByText("ghp_********…(40 chars)"));
    await visible(page.getByText("src/config.ts:12"));
    await hasText(page.locator("section.panel", { hasText: "Not scanned" }), "vendor/bundle.min.js");
    await shot("09-scan-report");
  });
});

/** Records a draft for Dana, uploads a signed PDF, activates it. */
async function addAgreement(type: string, title: string) {
  await page.getByRole("link", { name: "Developers", exact: true }).click();
  await page.getByRole("link", { name: "Dana Developer" }).click();
  await heading("Dana Developer").waitFor();
  await page.getByRole("link", { name: "New agreement" }).click();
  await heading("New agreement").waitFor();
  await eventually(async () => expect(await field("Developer").inputValue()).toMatch(/.+/));
  await field("Type").selectOption(type);
  await field("Title").fill(title);
  await field("Signed on").fill(isoDay(-10));
  await field("Effective on").fill(isoDay(-10));
  await field("Expires on").fill(isoDay(365));
  await button("Create draft").click();
  await heading(title).waitFor();
  await hasText(page.locator(".tag").first(), "Draft");

  await page.getByLabel("Signed PDF").setInputFiles({
    name: `${type}-signed.pdf`,
    mimeType: "application/pdf",
    buffer: samplePdf(),
  });
  await button("Upload").click();
  await visible(page.getByRole("status").filter({ hasText: "Document uploaded" }));
  const download = page.getByRole("link", { name: `${type}-signed.pdf` });
  await download.waitFor();
  expect(await download.getAttribute("href")).toMatch(/\/api\/v1\/agreements\/.+\/document$/);

  await button("Activate").click();
  await visible(page.getByText("in effect today"));
}

/** Signs out whoever is signed in and signs in with a password and a TOTP code. */
async function signInAs(email: string, password: string, code: TOTP, landing: string) {
  await page.getByRole("button", { name: "Sign out" }).click();
  await heading("Sign in").waitFor();
  await field("Email").fill(email);
  await field("Password").fill(password);
  await button("Continue").click();
  await heading("Enter your code").waitFor();
  await field("Code").fill(await nextCode(code));
  await button("Verify").click();
  // Sign-in returns to the page the last person left; start from the home page instead.
  await page.waitForURL((u) => !u.pathname.startsWith("/sign-in"));
  await page.goto(new URL("/", page.url()).toString());
  await heading(landing).waitFor();
}

describe("least-privilege access in a browser", () => {
  let danaTotp: TOTP;
  const danaPassword = "orange kettle horizon 42";

  it("adds a GitHub repository to the catalog; its token is write-only", async () => {
    await page.getByRole("link", { name: "Access", exact: true }).click();
    await heading("Approvals").waitFor();
    await page.getByRole("link", { name: "Catalog", exact: true }).click();
    await heading("Resource catalog").waitFor();
    await page.getByRole("link", { name: "New resource" }).click();
    await heading("New resource").waitFor();
    await field("Name").fill("checkout-repo");
    await field("Kind").selectOption("github");
    await field("Environment").selectOption("staging");
    await page.getByRole("checkbox", { name: "Ada Admin (admin)" }).check();
    await field("API URL").fill(gh.url);
    await field("Owner (organisation or user)").fill("acme");
    await field("Repository").fill("checkout");
    await page.getByLabel(/^Token/).fill(GH_TOKEN);
    await button("Create resource").click();
    await heading("checkout-repo").waitFor();
    await visible(page.getByText("Set (never shown)."));
    expect(await page.getByLabel(/^Token/).inputValue()).toBe("");
    expect(await page.content()).not.toContain(GH_TOKEN);
    await shot("11-resource");
  });

  it("invites Dana to the portal, where she asks for read access with a reason", async () => {
    await page.getByRole("link", { name: "Users", exact: true }).click();
    await heading("Users").waitFor();
    await page.locator("summary", { hasText: "Invite someone" }).click();
    await field("Role").selectOption("developer");
    await field("Developer record").selectOption({ label: "Dana Developer (dana@acme.example)" });
    await button("Create invitation link").click();
    const link = (await page.getByTestId("invite-link").textContent())!.trim();

    await page.getByRole("button", { name: "Sign out" }).click();
    await heading("Sign in").waitFor();
    await page.goto(link);
    await heading("Accept your invitation").waitFor();
    await field("Name").fill("Dana");
    await field("Password").fill(danaPassword);
    await field("Repeat password").fill(danaPassword);
    await button("Accept invitation").click();
    await heading("Set up your authenticator").waitFor();
    const secret = await page.locator("[data-secret]").getAttribute("data-secret");
    danaTotp = new TOTP({ secret: Secret.fromBase32(secret!), digits: 6, period: 30 });
    await field("Code from the app").fill(await nextCode(danaTotp));
    await button("Turn on").click();
    await heading("Save your recovery codes").waitFor();
    await field("I saved these codes somewhere safe").check();
    await button("Continue to Warden").click();
    await heading("My profile").waitFor();

    await page.getByRole("link", { name: "My access", exact: true }).click();
    await heading("My access").waitFor();
    await field("Resource").selectOption({ label: "checkout-repo (Staging, Internal)" });
    await field("Level").selectOption("read");
    await field("For how long (hours)").fill("2");
    await field("Reason").fill("Fix the checkout bug #42");
    await button("Send request").click();
    await hasText(page.getByTestId("request-sent"), "it needs 1 approval");
    await hasText(page.locator("section.panel", { hasText: "My requests" }), "Pending");
    await shot("12-request");
  });

  it("the owner approves it in the inbox, and the grant shows with its time left", async () => {
    await signInAs("ada@example.com", "correct horse battery staple", totp, "Dashboard");
    await page.getByRole("link", { name: "Access", exact: true }).click();
    await heading("Approvals").waitFor();
    const card = page.locator("li.request-card", { hasText: "Dana Developer" });
    await hasText(card, "asks for Read on checkout-repo for 2 h");
    await hasText(card, "0 of 1 approval");
    await hasText(card, "Fix the checkout bug #42");
    await card.getByLabel(/^Reason for Dana Developer's request/).fill("Planned sprint work");
    await card.getByRole("button", { name: /^Approve/ }).click();
    await visible(page.getByText("Nothing waits for your decision."));

    await page.getByRole("link", { name: "Live grants", exact: true }).click();
    await heading("Live grants").waitFor();
    const row = page.locator("tr[data-grant]", { hasText: "Dana Developer" });
    await hasText(row, "checkout-repo");
    await hasText(row, "Active");
    await hasText(row.locator(".tl-text"), /^(2 h|1 h 59 min) left$/);
    await visible(page.locator("figure.timeline svg"));
    // The connector really asked the GitHub-like server to add Dana (an invitation she must accept).
    expect([...gh.invitations.values()].map((i) => i.login)).toContain("dana-dev");
    await shot("13-live-grants");
  });

  it("a review campaign keeps the grant with a reason and exports it as CSV", async () => {
    await page.getByRole("link", { name: "Reviews", exact: true }).click();
    await heading("Access reviews").waitFor();
    await page.getByRole("link", { name: "New campaign" }).click();
    await heading("New access review").waitFor();
    await field("Name").fill("Checkout review");
    await field("Resource").selectOption({ label: "checkout-repo" });
    await button("Open the campaign").click();
    await heading("Checkout review").waitFor();
    const item = page.locator("tr[data-item]", { hasText: "Dana Developer" });
    await item.getByLabel(/^Reason for Dana Developer's read access/).fill("Still on the checkout team");
    await item.getByRole("button", { name: /^Keep/ }).click();
    await hasText(page.locator("section.panel", { hasText: "Progress" }), "completed");
    await hasText(item, "Outcome: kept");
    const href = await page.getByRole("link", { name: "Export CSV" }).getAttribute("href");
    const csv = await page.request.get(new URL(href!, page.url()).toString());
    expect(csv.status()).toBe(200);
    const text = await csv.text();
    expect(text).toContain("Dana Developer");
    expect(text).toContain("Still on the checkout team");
    await shot("14-review");
  });

  it("adds an SSH host group that allows break-glass, with the host names its logs use", async () => {
    await page.getByRole("link", { name: "Access", exact: true }).click();
    await heading("Approvals").waitFor();
    await page.getByRole("link", { name: "Catalog", exact: true }).click();
    await heading("Resource catalog").waitFor();
    await page.getByRole("link", { name: "New resource" }).click();
    await heading("New resource").waitFor();
    await field("Name").fill("web-hosts");
    await field("Kind").selectOption("ssh");
    await field("Environment").selectOption("staging");
    await page.getByRole("checkbox", { name: "Ada Admin (admin)" }).check();
    await field("Principals").fill("deploy");
    await field("Host names").fill("web-1, web-2");
    await page.getByLabel("Allow break-glass").check();
    await button("Create resource").click();
    await heading("web-hosts").waitFor();
    expect(await field("Host names").inputValue()).toBe("web-1, web-2");
  });

  it("Dana sees her grant with its time left and the invitation to accept", async () => {
    await signInAs("dana@acme.example", danaPassword, danaTotp, "My profile");
    await page.getByRole("link", { name: "My access", exact: true }).click();
    await heading("My access").waitFor();
    const grant = page.locator("li.request-card[data-grant]", { hasText: "checkout-repo" });
    await hasText(grant, "Active");
    await hasText(grant.locator(".tl-text"), /left$/);
    await hasText(grant, "Accept the invitation");
    await shot("15-my-access");
  });

  it("Dana registers two SSH keys, opens break-glass to the hosts and gets a certificate for each key", async () => {
    const key = (comment: string) => {
      const { publicKey } = generateKeyPairSync("ed25519");
      const raw = Buffer.from(publicKey.export({ format: "jwk" }).x!, "base64url");
      const str = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
      return `ssh-ed25519 ${Buffer.concat([str(Buffer.from("ssh-ed25519")), str(raw)]).toString("base64")} ${comment}`;
    };
    await page.getByRole("link", { name: "My profile", exact: true }).click();
    await heading("My profile").waitFor();
    await field("SSH public keys").fill(`${key("dana-laptop")}\n${key("dana-desktop")}`);
    await button("Save").click();
    await visible(page.getByText("Saved."));

    await page.getByRole("link", { name: "My access", exact: true }).click();
    await heading("My access").waitFor();
    await page.locator("summary", { hasText: "Open emergency access" }).click();
    const emergency = page.locator("section.panel", { hasText: "Break-glass" });
    await emergency.getByLabel(/^Resource/).selectOption({ label: "web-hosts" });
    await emergency.getByLabel(/^Minutes/).fill("30");
    await emergency.getByLabel(/^Emergency/).fill("Checkout outage: restart the web workers");
    await button("Open emergency access").click();
    await hasText(emergency.getByRole("status"), "Emergency access to web-hosts is open");

    const grant = page.locator("li.request-card[data-grant]", { hasText: "web-hosts" });
    await hasText(grant, "break-glass");
    // Active since a moment ago: time left, not "starts in" (the page's clock lags up to half a minute).
    await hasText(grant.locator(".tl-text"), /^(30|29) min left$/);
    await grant.getByRole("button", { name: /^Download the SSH certificate/ }).click();
    await hasText(grant, "For your key dana-laptop");
    await hasText(grant, "For your key dana-desktop");
    const saving = page.waitForEvent("download");
    await grant.getByRole("button", { name: "Save id_ed25519-cert.pub" }).first().click();
    const download = await saving;
    expect(download.suggestedFilename()).toBe("id_ed25519-cert.pub");
    const text = await readFile((await download.path())!, "utf8");
    expect(text).toMatch(/^ssh-ed25519-cert-v01@openssh\.com \S+ warden:developer=dana@acme\.example:grant=/);
    await shot("16-ssh-certificates");
  });
});
