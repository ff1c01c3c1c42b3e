import os from "node:os";
import type { Command } from "commander";
import {
  createApiClient,
  credentialsPath,
  failOnProblem,
  loadCredentials,
  peerFingerprint,
  saveCredentials,
} from "./client.ts";
import { CliError, EXIT, printJson } from "./output.ts";
import { ask, readStdin } from "./prompt.ts";

interface LoginOpts {
  server: string;
  token?: string;
  email?: string;
  passwordStdin?: boolean;
  code?: string;
  fingerprint?: string;
  yes?: boolean;
}

async function trustServer(server: string, opts: LoginOpts): Promise<string | undefined> {
  if (opts.fingerprint) return opts.fingerprint;
  // A certificate the system trusts needs no pin.
  const probe = createApiClient({ server });
  try {
    await probe.request("GET", "/healthz");
    return undefined;
  } catch (e) {
    if (!(e instanceof CliError) || !/certificate|self.signed|verify/i.test(e.message)) throw e;
  }
  const fp = await peerFingerprint(server).catch((e: Error) => {
    throw new CliError(`Cannot reach ${server}: ${e.message}`, EXIT.unavailable);
  });
  process.stderr.write(
    `The server's certificate is not signed by a trusted authority.\nSHA-256 fingerprint: ${fp}\n`,
  );
  if (opts.yes) return fp;
  const answer = await ask("Does it match the fingerprint `warden serve` printed? [y/N] ");
  if (!/^y(es)?$/i.test(answer))
    throw new CliError(
      "Not trusted; nothing saved",
      EXIT.failure,
      "Compare the fingerprint with the server's start-up output, or pass --fingerprint",
    );
  return fp;
}

export function registerLoginCommands(program: Command): void {
  program
    .command("login")
    .description("Sign in to a Warden server and store an API token (mode 0600) for the other commands")
    .requiredOption("--server <url>", "the server, e.g. https://warden.example.com:8443")
    .option("--token <token>", "use an existing API token (created in the web UI) instead of signing in")
    .option("--email <email>", "your account's email (asked when omitted)")
    .option("--password-stdin", "read the password from standard input (for scripts)")
    .option("--code <totp>", "the 6-digit code from your authenticator app")
    .option(
      "--fingerprint <sha256>",
      "pin the server certificate's SHA-256 fingerprint (self-signed servers)",
    )
    .option("-y, --yes", "trust the server's self-signed certificate without asking")
    .addHelpText(
      "after",
      '\nExamples:\n  warden login --server https://localhost:8443\n  warden login --server https://localhost:8443 --token wdn_... --fingerprint AB:CD:...\n  echo "$PW" | warden login --server https://w:8443 --email me@corp.com --password-stdin --code 123456',
    )
    .action(async (opts: LoginOpts) => {
      const server = opts.server.replace(/\/+$/, "");
      const caFingerprint = await trustServer(server, opts);
      let token = opts.token;
      if (!token) {
        const email = opts.email ?? (await ask("Email: "));
        const password = opts.passwordStdin ? await readStdin() : await ask("Password: ", { secret: true });
        const anon = createApiClient({ server, caFingerprint });
        const login = await anon.request<{ mfa: string; csrfToken: string }>("POST", "/api/v1/auth/login", {
          email,
          password,
        });
        failOnProblem(login);
        const setCookie = ([] as string[]).concat(login.headers["set-cookie"] ?? []);
        let cookie =
          setCookie.map((c) => c.split(";")[0]).find((c) => c?.startsWith("__Host-warden_session=")) ?? "";
        let csrf = login.body.csrfToken;
        if (login.body.mfa === "enrolment_required") {
          throw new CliError(
            "Your account has no authenticator yet",
            EXIT.failure,
            "Sign in once in the web UI to set one up, then run `warden login` again",
          );
        }
        if (login.body.mfa === "required") {
          const code = opts.code ?? (await ask("Authenticator code: "));
          const mfa = await createApiClient({ server, caFingerprint, cookie, csrf }).request<{
            csrfToken: string;
          }>("POST", "/api/v1/auth/mfa", { code });
          failOnProblem(mfa);
          cookie =
            ([] as string[])
              .concat(mfa.headers["set-cookie"] ?? [])
              .map((c) => c.split(";")[0])
              .find((c) => c?.startsWith("__Host-warden_session=")) ?? cookie;
          csrf = mfa.body.csrfToken;
        }
        const session = createApiClient({ server, caFingerprint, cookie, csrf });
        const created = await session.request<{ secret: string }>("POST", "/api/v1/tokens", {
          name: `cli ${os.userInfo().username}@${os.hostname()}`.slice(0, 80),
          scopes: ["read", "write"],
          expiresInDays: 30,
        });
        failOnProblem(created);
        token = created.body.secret;
        await session.request("POST", "/api/v1/auth/logout", {});
      }
      const check = await createApiClient({ server, token, caFingerprint }).request<{
        user: { email: string; role: string };
      }>("GET", "/api/v1/auth/session");
      failOnProblem(check);
      const file = await saveCredentials({ server, token, ...(caFingerprint ? { caFingerprint } : {}) });
      process.stdout.write(
        `Signed in to ${server} as ${check.body.user.email} (${check.body.user.role}). Token saved in ${file}.\n`,
      );
    });

  program
    .command("whoami")
    .description("Show which server and account the CLI uses")
    .option("--json", "machine-readable output")
    .action(async (opts: { json?: boolean }) => {
      const c = await loadCredentials();
      const res = await createApiClient(c).request<{ user: { email: string; role: string } }>(
        "GET",
        "/api/v1/auth/session",
      );
      failOnProblem(res);
      if (opts.json) printJson({ server: c.server, ...res.body.user });
      else
        process.stdout.write(
          `${res.body.user.email} (${res.body.user.role}) on ${c.server}\n  credentials: ${credentialsPath()}\n`,
        );
    });
}
