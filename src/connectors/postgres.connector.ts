import { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto";
import pg from "pg";
import { z } from "zod";
import type { Clock } from "../core/clock.ts";
import { ConnectorError } from "./connector.errors.ts";
import type {
  CheckResult,
  Connector,
  ConnectorDeps,
  ConnectorGrant,
  ProvisionResult,
} from "./connector.types.ts";

/**
 * PostgreSQL identifiers Warden accepts in settings: plain names only (letters, digits, `_`, `$`, at
 * most 63 bytes), so nothing surprising can reach the server even before quoting with escapeIdentifier.
 */
const identifier = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_$]{0,62}$/, "must be a plain PostgreSQL identifier (letters, digits, _ or $)");

const tablePrivileges = [
  "SELECT",
  "INSERT",
  "UPDATE",
  "DELETE",
  "TRUNCATE",
  "REFERENCES",
  "TRIGGER",
] as const;

export const postgresSettingsSchema = z.object({
  /** Administrative connection to the database that developers get access to. */
  connection: z.object({
    host: z.string().min(1).max(255),
    port: z.number().int().min(1).max(65535).default(5432),
    database: identifier,
    user: identifier,
    /** Sealed at rest by the caller; absent with trust or peer authentication. */
    password: z.string().max(1000).optional(),
    ssl: z.boolean().default(false),
  }),
  /** Schemas the levels apply to. */
  schemas: z.array(identifier).min(1).max(50).default(["public"]),
  /** Owners of future tables whose default privileges are extended (default: the admin user). */
  defaultPrivilegesFor: z.array(identifier).max(20).default([]),
  /** Concurrent sessions a developer's role may open. */
  connectionLimit: z.number().int().min(1).max(1000).default(3),
  rolePrefix: z
    .string()
    .regex(/^[a-z][a-z0-9_]{0,11}$/, "lowercase letters, digits and _, at most 12 characters")
    .default("warden_"),
  /** What the admin level grants, on top of write. */
  admin: z
    .object({
      tablePrivileges: z
        .array(z.enum(tablePrivileges))
        .min(1)
        .default([...tablePrivileges]),
      schemaCreate: z.boolean().default(false),
      databaseTemporary: z.boolean().default(true),
    })
    .prefault({}),
});
export type PostgresSettings = z.output<typeof postgresSettingsSchema>;
export type PostgresSettingsInput = z.input<typeof postgresSettingsSchema>;

const quote = (name: string) => pg.escapeIdentifier(identifier.parse(name));
const slug = (s: string, max: number) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "")
    .slice(0, max) || "x";

/**
 * One login role per developer and resource: readable parts plus a hash of the exact ids, so two ids
 * that slug alike never share a role. At most 12 + 20 + 1 + 20 + 1 + 8 = 62 bytes.
 */
export function postgresRoleName(prefix: string, developerId: string, resourceId: string): string {
  const hash = createHash("sha256").update(`${developerId}\0${resourceId}`).digest("hex").slice(0, 8);
  return identifier.parse(`${prefix}${slug(developerId, 20)}_${slug(resourceId, 20)}_${hash}`);
}

/**
 * A SCRAM-SHA-256 verifier (RFC 5802/7677, PostgreSQL's `rolpassword` format), computed here so the
 * plaintext password never travels to the server nor lands in its statement log; psql's \password does
 * the same. The generated password is ASCII, so SASLprep leaves it unchanged.
 */
export function scramSha256Verifier(password: string, salt = randomBytes(16), iterations = 4096): string {
  const salted = pbkdf2Sync(password, salt, iterations, 32, "sha256");
  const clientKey = createHmac("sha256", salted).update("Client Key").digest();
  const storedKey = createHash("sha256").update(clientKey).digest();
  const serverKey = createHmac("sha256", salted).update("Server Key").digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString("base64")}$${storedKey.toString("base64")}:${serverKey.toString("base64")}`;
}

const retryableSqlStateClasses = new Set(["08", "53", "57", "40"]);
const networkCodes = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENOTFOUND",
  "EPIPE",
]);

function toConnectorError(e: unknown, doing: string): ConnectorError {
  if (e instanceof ConnectorError) return e;
  const code = (e as { code?: string }).code ?? "";
  if (networkCodes.has(code) || /Connection terminated|timeout/i.test((e as Error).message ?? "")) {
    return new ConnectorError({
      connector: "postgres",
      reason: "unreachable",
      retryable: true,
      message: `PostgreSQL could not be reached while ${doing} (${code || "connection lost"}).`,
      cause: e,
    });
  }
  const sqlClass = code.slice(0, 2);
  const reason =
    sqlClass === "28"
      ? "auth_failed"
      : code === "42501"
        ? "forbidden"
        : code === "3F000" || code === "3D000" || code === "42704"
          ? "invalid_settings"
          : "remote_error";
  // The server's message names objects, never our statement or the password, so it is safe to show.
  return new ConnectorError({
    connector: "postgres",
    reason,
    retryable: retryableSqlStateClasses.has(sqlClass),
    message: `PostgreSQL refused ${doing}: ${(e as Error).message} (SQLSTATE ${code || "unknown"}).`,
    cause: e,
  });
}

interface Statements {
  revokePrivileges: string[];
  grantLevel: (level: ConnectorGrant["level"]) => string[];
}

function statementsFor(settings: PostgresSettings, role: string): Statements {
  const r = quote(role);
  const db = quote(settings.connection.database);
  const owners = settings.defaultPrivilegesFor.map(quote);
  const defaults = (schema: string, body: string) =>
    owners.length === 0
      ? [`ALTER DEFAULT PRIVILEGES IN SCHEMA ${schema} ${body}`]
      : owners.map((o) => `ALTER DEFAULT PRIVILEGES FOR ROLE ${o} IN SCHEMA ${schema} ${body}`);
  const schemas = settings.schemas.map(quote);

  const revokePrivileges = [
    ...schemas.flatMap((s) => [
      `REVOKE ALL ON ALL TABLES IN SCHEMA ${s} FROM ${r}`,
      `REVOKE ALL ON ALL SEQUENCES IN SCHEMA ${s} FROM ${r}`,
      `REVOKE ALL ON SCHEMA ${s} FROM ${r}`,
      ...defaults(s, `REVOKE ALL ON TABLES FROM ${r}`),
      ...defaults(s, `REVOKE ALL ON SEQUENCES FROM ${r}`),
    ]),
    `REVOKE ALL ON DATABASE ${db} FROM ${r}`,
  ];

  const grantLevel = (level: ConnectorGrant["level"]) => {
    // Privilege keywords come from fixed lists above, never from input.
    const table =
      level === "read"
        ? ["SELECT"]
        : level === "write"
          ? ["SELECT", "INSERT", "UPDATE", "DELETE"]
          : [...new Set(["SELECT", "INSERT", "UPDATE", "DELETE", ...settings.admin.tablePrivileges])];
    const sequence = level === "read" ? ["SELECT"] : ["SELECT", "USAGE", "UPDATE"];
    const schema = level === "admin" && settings.admin.schemaCreate ? ["USAGE", "CREATE"] : ["USAGE"];
    const database =
      level === "admin" && settings.admin.databaseTemporary ? ["CONNECT", "TEMPORARY"] : ["CONNECT"];
    return [
      `GRANT ${database.join(", ")} ON DATABASE ${db} TO ${r}`,
      ...schemas.flatMap((s) => [
        `GRANT ${schema.join(", ")} ON SCHEMA ${s} TO ${r}`,
        `GRANT ${table.join(", ")} ON ALL TABLES IN SCHEMA ${s} TO ${r}`,
        `GRANT ${sequence.join(", ")} ON ALL SEQUENCES IN SCHEMA ${s} TO ${r}`,
        ...defaults(s, `GRANT ${table.join(", ")} ON TABLES TO ${r}`),
        ...defaults(s, `GRANT ${sequence.join(", ")} ON SEQUENCES TO ${r}`),
      ]),
    ];
  };
  return { revokePrivileges, grantLevel };
}

/** Role attributes that keep a developer's role from ever being more than a plain login. */
const plainRole = "NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT";

export function createPostgresConnector(
  input: PostgresSettingsInput,
  deps: Pick<ConnectorDeps, "clock">,
): Connector {
  const settings = postgresSettingsSchema.parse(input);
  const clock: Clock = deps.clock;
  const pool = new pg.Pool({
    host: settings.connection.host,
    port: settings.connection.port,
    database: settings.connection.database,
    user: settings.connection.user,
    password: settings.connection.password,
    ssl: settings.connection.ssl ? { rejectUnauthorized: true } : undefined,
    max: 2,
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 10_000,
    application_name: "warden-connector",
  });
  // An idle client's error (server restart) must not crash the process; the next query reconnects.
  pool.on("error", () => {});

  const roleFor = (grant: ConnectorGrant) =>
    postgresRoleName(settings.rolePrefix, grant.developer.id, grant.resource.id);

  async function inTransaction<T>(
    role: string,
    doing: string,
    body: (c: pg.PoolClient) => Promise<T>,
  ): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (e) {
      throw toConnectorError(e, doing);
    }
    try {
      await client.query("BEGIN");
      // Serialises concurrent provision/revoke of one role across Warden nodes.
      await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`warden-role:${role}`]);
      const result = await body(client);
      await client.query("COMMIT");
      return result;
    } catch (e) {
      await client.query("ROLLBACK").catch(() => {});
      throw toConnectorError(e, doing);
    } finally {
      client.release();
    }
  }

  const roleExists = async (c: pg.PoolClient, role: string) =>
    (await c.query("SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1", [role])).rowCount === 1;

  return {
    kind: "postgres",

    async provision(grant): Promise<ProvisionResult> {
      if (grant.endsAt.getTime() <= clock.now().getTime()) {
        throw new ConnectorError({
          connector: "postgres",
          reason: "invalid_grant",
          retryable: false,
          message: `Grant ${grant.id} has already ended; nothing to provision.`,
        });
      }
      const role = roleFor(grant);
      const { revokePrivileges, grantLevel } = statementsFor(settings, role);
      const password = randomBytes(24).toString("base64url");
      // Utility statements take no bind parameters; every value below is quoted by pg's escape
      // functions and comes from validated settings, our own role name, a number or our own verifier.
      const attributes = [
        "LOGIN",
        plainRole,
        `PASSWORD ${pg.escapeLiteral(scramSha256Verifier(password))}`,
        `VALID UNTIL ${pg.escapeLiteral(grant.endsAt.toISOString())}`,
        `CONNECTION LIMIT ${settings.connectionLimit}`,
      ].join(" ");
      await inTransaction(role, `provisioning grant ${grant.id}`, async (c) => {
        const exists = await roleExists(c, role);
        await c.query(`${exists ? "ALTER" : "CREATE"} ROLE ${quote(role)} WITH ${attributes}`);
        // Reset to exactly this level (a re-provision may change it).
        for (const sql of revokePrivileges) await c.query(sql);
        for (const sql of grantLevel(grant.level)) await c.query(sql);
      });
      return {
        state: "active",
        externalRef: role,
        details: {
          role,
          database: settings.connection.database,
          host: settings.connection.host,
          port: settings.connection.port,
          schemas: settings.schemas,
          validUntil: grant.endsAt.toISOString(),
          connectionLimit: settings.connectionLimit,
        },
        secret: { kind: "password", value: password },
      };
    },

    async revoke(grant): Promise<void> {
      const role = roleFor(grant);
      const { revokePrivileges } = statementsFor(settings, role);
      const existed = await inTransaction(role, `revoking grant ${grant.id}`, async (c) => {
        if (!(await roleExists(c, role))) return false;
        // VALID UNTIL only expires the password (and is ignored by trust/peer/cert auth), so logging in
        // is switched off, the password dropped and every privilege taken back.
        await c.query(`ALTER ROLE ${quote(role)} WITH NOLOGIN PASSWORD NULL`);
        for (const sql of revokePrivileges) await c.query(sql);
        return true;
      });
      if (!existed) return;
      // After the commit, so a session cut here cannot log in again; open sessions do not re-check
      // NOLOGIN, hence the termination.
      try {
        await pool.query(
          "SELECT pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity WHERE usename = $1 AND pid <> pg_backend_pid()",
          [role],
        );
      } catch (e) {
        throw toConnectorError(e, `ending the open sessions of grant ${grant.id}`);
      }
    },

    async check(grant): Promise<CheckResult> {
      const role = roleFor(grant);
      try {
        const found = await pool.query<{
          rolcanlogin: boolean;
          rolvaliduntil: Date | null;
          rolconnlimit: number;
          can_connect: boolean;
          sessions: number;
        }>(
          `SELECT r.rolcanlogin, r.rolvaliduntil, r.rolconnlimit,
                  has_database_privilege(r.rolname, current_database(), 'CONNECT') AS can_connect,
                  (SELECT count(*)::int FROM pg_catalog.pg_stat_activity a WHERE a.usename = r.rolname) AS sessions
             FROM pg_catalog.pg_roles r WHERE r.rolname = $1`,
          [role],
        );
        const row = found.rows[0];
        if (!row) return { live: false, state: "absent", details: { role } };
        const usage = await pool.query<{ schema: string; usable: boolean }>(
          "SELECT s AS schema, has_schema_privilege($1, s, 'USAGE') AS usable FROM unnest($2::text[]) AS s",
          [role, settings.schemas],
        );
        const schemasUsable = usage.rows.every((u) => u.usable);
        const expired = row.rolvaliduntil !== null && row.rolvaliduntil.getTime() <= clock.now().getTime();
        const state = !row.rolcanlogin
          ? "nologin"
          : expired
            ? "expired"
            : !schemasUsable
              ? "no-privileges"
              : "active";
        return {
          live: state === "active" && row.can_connect,
          state,
          details: {
            role,
            validUntil: row.rolvaliduntil?.toISOString() ?? null,
            connectionLimit: row.rolconnlimit,
            openSessions: row.sessions,
          },
        };
      } catch (e) {
        throw toConnectorError(e, `checking grant ${grant.id}`);
      }
    },

    async close() {
      await pool.end();
    },
  };
}
