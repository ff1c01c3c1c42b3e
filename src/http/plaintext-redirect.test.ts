import { describe, expect, it } from "vitest";
import { redirectLocation } from "./plaintext-redirect.ts";

const to = { httpsPort: 8443, defaultHost: "127.0.0.1" };
const req = (url: string, host?: string) => ({ url, headers: host === undefined ? {} : { host } });

describe("redirectLocation", () => {
  it.each([
    [
      "same host and path on the HTTPS port",
      req("/a/b?c=1", "warden.example:8443"),
      to,
      "https://warden.example:8443/a/b?c=1",
    ],
    [
      "drops the port for 443",
      req("/x", "warden.example"),
      { ...to, httpsPort: 443 },
      "https://warden.example/x",
    ],
    ["keeps an IPv6 literal", req("/", "[::1]:8080"), to, "https://[::1]:8443/"],
    [
      "absolute-form request target goes to the root, not elsewhere",
      req("http://evil.example/x", "warden.example"),
      to,
      "https://warden.example:8443/",
    ],
    [
      "protocol-relative path goes to the root",
      req("//evil.example/x", "warden.example"),
      to,
      "https://warden.example:8443/",
    ],
    [
      "a malformed Host header falls back to the bind host",
      req("/p", "evil.example/<script>"),
      to,
      "https://127.0.0.1:8443/p",
    ],
    ["no Host header falls back to the bind host", req("/p"), to, "https://127.0.0.1:8443/p"],
    [
      "WARDEN_PUBLIC_URL wins over the Host header",
      req("/p?q", "other.example"),
      { ...to, publicUrl: "https://warden.example.com/" },
      "https://warden.example.com/p?q",
    ],
  ])("%s", (_name, request, target, expected) => {
    expect(redirectLocation(request, target)).toBe(expected);
  });
});
