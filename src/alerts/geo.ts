/**
 * IP geolocation behind an interface, so a real database (MaxMind, IP2Location…) can be plugged in by the
 * operator. The built-in implementation is a CIDR table with longest-prefix match, enough for known
 * office/VPN ranges and for tests.
 */
import ipaddr from "ipaddr.js";
import { AppError } from "../core/errors.ts";

export interface GeoLocation {
  lat: number;
  lon: number;
  country?: string;
  city?: string;
}

export interface GeoLookup {
  lookup(ip: string): GeoLocation | undefined;
}

export interface CidrGeoEntry extends GeoLocation {
  cidr: string;
}

function ipToBigInt(ip: ipaddr.IPv4 | ipaddr.IPv6): bigint {
  let n = 0n;
  for (const b of ip.toByteArray()) n = (n << 8n) | BigInt(b);
  return n;
}

/** Longest-prefix match over a table of CIDR → location, one hash lookup per distinct prefix length. */
export function createCidrGeoTable(entries: readonly CidrGeoEntry[]): GeoLookup {
  const tables = {
    ipv4: new Map<number, Map<bigint, GeoLocation>>(),
    ipv6: new Map<number, Map<bigint, GeoLocation>>(),
  };
  for (const e of entries) {
    let parsed: [ipaddr.IPv4 | ipaddr.IPv6, number];
    try {
      parsed = ipaddr.parseCIDR(e.cidr);
    } catch {
      throw new AppError("validation_failed", `geo table: bad CIDR ${JSON.stringify(e.cidr)}`);
    }
    const [addr, len] = parsed;
    const kind = addr.kind();
    const bits = kind === "ipv4" ? 32 : 128;
    const byLen = tables[kind];
    let m = byLen.get(len);
    if (!m) {
      m = new Map();
      byLen.set(len, m);
    }
    const { cidr: _cidr, ...loc } = e;
    m.set(ipToBigInt(addr) >> BigInt(bits - len), loc);
  }
  const order = {
    ipv4: [...tables.ipv4.keys()].sort((a, b) => b - a),
    ipv6: [...tables.ipv6.keys()].sort((a, b) => b - a),
  };
  return {
    lookup(ipText) {
      let ip: ipaddr.IPv4 | ipaddr.IPv6;
      try {
        ip = ipaddr.process(ipText);
      } catch {
        return undefined;
      }
      const kind = ip.kind();
      const bits = kind === "ipv4" ? 32 : 128;
      const n = ipToBigInt(ip);
      for (const len of order[kind]) {
        const hit = tables[kind].get(len)!.get(n >> BigInt(bits - len));
        if (hit) return hit;
      }
      return undefined;
    },
  };
}

/** Great-circle distance in km (haversine, mean Earth radius). */
export function distanceKm(a: GeoLocation, b: GeoLocation): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371.0088 * Math.asin(Math.min(1, Math.sqrt(h)));
}
