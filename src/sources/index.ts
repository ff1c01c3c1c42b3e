import type { Api } from "../http/server.ts";
import { hecRoutes, sourcesRoutes } from "./sources.routes.ts";
import { createSourcesService, type SourcesDeps } from "./sources.service.ts";

export { splitJsonValues } from "./json-stream.ts";
export type { SourcesService } from "./sources.service.ts";

/** Event sources: the syslog receiver (started by `serve`), GitHub and GitLab audit streams. */
export function createSourcesFeature(deps: SourcesDeps) {
  const service = createSourcesService(deps);
  return {
    service,
    routes: [sourcesRoutes(service)] as ((api: Api) => Promise<void>)[],
    /** Splunk HTTP Event Collector paths at the root, for GitHub's streaming destination. */
    rootRoutes: [hecRoutes(service)] as ((api: Api) => Promise<void>)[],
  };
}
