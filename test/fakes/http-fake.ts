import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";

/** One request a fake received, for assertions. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  body: string;
}

export interface FakeReply {
  status: number;
  json?: unknown;
  headers?: Record<string, string>;
}

export type FakeHandler = (req: RecordedRequest, params: Record<string, string>, url: URL) => FakeReply;

export interface FakeRoute {
  method: string;
  /** Path pattern with `:name` segments, e.g. `/repos/:owner/:repo/collaborators/:username`. */
  pattern: string;
  handler: FakeHandler;
}

export interface HttpFake {
  url: string;
  requests: RecordedRequest[];
  /** Answers the next `times` requests with `reply` before any route runs (outages, rate limits). */
  failNext(reply: FakeReply, times?: number): void;
  close(): Promise<void>;
}

function match(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split("/");
  const s = path.split("/");
  if (p.length !== s.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    if (p[i]!.startsWith(":")) params[p[i]!.slice(1)] = decodeURIComponent(s[i]!);
    else if (p[i] !== s[i]) return null;
  }
  return params;
}

/** A small HTTP server on 127.0.0.1 answering the given routes; 404 for anything else. */
export async function startHttpFake(
  routes: FakeRoute[],
  options: { authorize?: (req: RecordedRequest) => FakeReply | null } = {},
): Promise<HttpFake> {
  const requests: RecordedRequest[] = [];
  const failures: FakeReply[] = [];
  const send = (res: ServerResponse, reply: FakeReply) => {
    const body = reply.json === undefined ? "" : JSON.stringify(reply.json);
    res.writeHead(reply.status, {
      ...(body ? { "content-type": "application/json; charset=utf-8" } : {}),
      ...reply.headers,
    });
    res.end(body);
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      const recorded: RecordedRequest = {
        method: req.method ?? "GET",
        path: url.pathname,
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      };
      requests.push(recorded);
      const failure = failures.shift();
      if (failure) return send(res, failure);
      const denied = options.authorize?.(recorded);
      if (denied) return send(res, denied);
      for (const route of routes) {
        if (route.method !== recorded.method) continue;
        const params = match(route.pattern, url.pathname);
        if (params) return send(res, route.handler(recorded, params, url));
      }
      send(res, { status: 404, json: { message: "Not Found" } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    failNext(reply, times = 1) {
      for (let i = 0; i < times; i++) failures.push(reply);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
