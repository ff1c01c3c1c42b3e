import { idParam } from "../http/pagination.ts";
import type { Api } from "../http/server.ts";
import { keysStatusSchema, rotateDataInput, rotateKekResult, rotationSchema } from "./keys.schemas.ts";
import type { KeysService } from "./keys.service.ts";

const tags = ["keys"];

export function keysRoutes(keys: KeysService) {
  return async (api: Api) => {
    api.get(
      "/keys",
      {
        config: { access: { permission: "keys:read" } },
        schema: {
          tags,
          summary: "Encryption at rest: master key ids, data keys with their use, rotations with progress",
          response: { 200: keysStatusSchema },
        },
      },
      async () => keys.status(),
    );
    api.post(
      "/keys/kek/rotate",
      {
        config: { access: { permission: "keys:write" } },
        schema: {
          tags,
          summary:
            "Rotate the master key (KEK): a key file is replaced by a new one; then every data key is rewrapped",
          response: { 200: rotateKekResult },
        },
      },
      async (req) => keys.rotateKek(req.ctx),
    );
    api.post(
      "/keys/data/rotate",
      {
        config: { access: { permission: "keys:write" } },
        schema: {
          tags,
          summary:
            "Rotate data keys: a new version per purpose; sealed values are re-encrypted in the background",
          body: rotateDataInput,
          response: { 202: rotationSchema },
        },
      },
      async (req, reply) => reply.status(202).send(await keys.rotateDataKeys(req.ctx, req.body as never)),
    );
    api.get(
      "/keys/rotations/:id",
      {
        config: { access: { permission: "keys:read" } },
        schema: {
          tags,
          summary: "One rotation and its progress",
          params: idParam,
          response: { 200: rotationSchema },
        },
      },
      async (req) => keys.rotation(req.params.id),
    );
  };
}
