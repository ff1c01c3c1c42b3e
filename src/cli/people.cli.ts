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
