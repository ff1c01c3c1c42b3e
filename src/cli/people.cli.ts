import type { Command } from "commander";
import { defineResource } from "./resource.ts";

export function registerPeopleCommands(program: Command): void {
  defineResource(program, {
    name: "vendors",
    singular: "vendor",
    path: "/api/v1/vendors",
    columns: ["id", "name", "country", "riskTier", "dayRate", "pricing", "developerCount"],
    view: (v) => ({ pricing: v.pricingBelowMarket ? "FAR BELOW MARKET" : "ok" }),
    fields: [
      { flags: "--name <name>", field: "name", description: "company name" },
      { flags: "--country <cc>", field: "country", description: "ISO country code, e.g. PT" },
      {
        flags: "--risk-tier <tier>",
        field: "riskTier",
        description: "risk tier",
        choices: ["low", "medium", "high", "critical"],
      },
      { flags: "--day-rate <amount>", field: "dayRate", description: "day rate", parse: "number" },
      { flags: "--currency <code>", field: "currency", description: "ISO currency, e.g. EUR" },
      {
        flags: "--band-low <amount>",
        field: "marketBandLow",
        description: "market band, low end",
        parse: "number",
      },
      {
        flags: "--band-high <amount>",
        field: "marketBandHigh",
        description: "market band, high end",
        parse: "number",
      },
      {
        flags: "--contacts <json>",
        field: "contacts",
        description: 'JSON list: [{"name":"…","email":"…"}]',
        parse: "json",
      },
      { flags: "--notes <text>", field: "notes", description: "free notes" },
    ],
    filters: [
      { flags: "--q <text>", field: "q", description: "name contains" },
      { flags: "--risk-tier <tier>", field: "riskTier", description: "only this risk tier" },
    ],
    examples: [
      "warden vendors create --name Acme --country PT --risk-tier medium --day-rate 300 --band-low 450 --band-high 700",
      "warden vendors list --risk-tier high --json",
      "warden vendors update <id> --risk-tier high",
    ],
  });
}

export function registerDeveloperCommands(program: Command): void {
  defineResource(program, {
    name: "developers",
    singular: "developer",
    path: "/api/v1/developers",
    columns: ["id", "fullName", "email", "vendorName", "timeZone", "status"],
    fields: [
      { flags: "--name <full name>", field: "fullName", description: "full name" },
      { flags: "--email <email>", field: "email", description: "email (unique)" },
      { flags: "--vendor <id>", field: "vendorId", description: "vendor id (omit for a freelancer)" },
      { flags: "--country <cc>", field: "country", description: "ISO country code" },
      { flags: "--time-zone <tz>", field: "timeZone", description: "IANA time zone, e.g. Asia/Tokyo" },
      {
        flags: "--hours <HH:MM-HH:MM[/days]>",
        field: "workingHours",
        description: "working hours in their time zone, e.g. 09:00-18:00/1-5",
        parse: "hours",
      },
      {
        flags: "--github <user>",
        field: "gitUsernames",
        description: 'Git usernames as JSON, e.g. {"github":"ana"}',
        parse: "json",
      },
      {
        flags: "--ssh-keys <json>",
        field: "sshPublicKeys",
        description: "SSH public keys, JSON list of strings",
        parse: "json",
      },
      {
        flags: "--age-recipients <list>",
        field: "ageRecipients",
        description: "age recipients, comma-separated (age1…)",
        parse: "list",
      },
      {
        flags: "--status <status>",
        field: "status",
        description: "active or offboarded (update only)",
        choices: ["active", "offboarded"],
      },
    ],
    filters: [
      { flags: "--q <text>", field: "q", description: "name or email contains" },
      { flags: "--vendor <id>", field: "vendorId", description: "only this vendor's developers" },
      { flags: "--status <status>", field: "status", description: "active or offboarded" },
    ],
    examples: [
      "warden developers create --name 'Ana Silva' --email ana@acme.example --vendor <vendor-id> --country PT --time-zone Europe/Lisbon --hours 09:00-18:00/1-5",
      "warden developers list --q ana --json",
      "warden developers update <id> --status offboarded",
    ],
  });
  defineResource(program, {
    name: "engagements",
    singular: "engagement",
    path: "/api/v1/engagements",
    columns: ["id", "developerName", "title", "startsOn", "endsOn", "roles", "handlesPersonalData", "active"],
    fields: [
      { flags: "--developer <id>", field: "developerId", description: "developer id" },
      { flags: "--title <title>", field: "title", description: "what the work is" },
      { flags: "--starts <YYYY-MM-DD>", field: "startsOn", description: "first day" },
      { flags: "--ends <YYYY-MM-DD>", field: "endsOn", description: "the day it no longer holds" },
      {
        flags: "--roles <list>",
        field: "roles",
        description: "frontend,backend,devops,data,qa",
        parse: "list",
      },
      {
        flags: "--personal-data <bool>",
        field: "handlesPersonalData",
        description: "handles personal data (true/false)",
        parse: "boolean",
      },
      { flags: "--scope <text>", field: "scope", description: "resources and scope, free text" },
    ],
    filters: [
      { flags: "--developer <id>", field: "developerId", description: "only this developer" },
      {
        flags: "--active-at <YYYY-MM-DD>",
        field: "activeAt",
        description: "only engagements active that day",
      },
    ],
    examples: [
      "warden engagements create --developer <id> --title 'Checkout rewrite' --starts 2026-11-01 --ends 2027-05-01 --roles backend --personal-data true",
      "warden engagements list --developer <id>",
    ],
  });
}
