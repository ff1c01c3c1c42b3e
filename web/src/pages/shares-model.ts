/** Shapes of the shares API (mirroring src/shares/shares.schemas.ts) and small formatting helpers. */

export interface ShareKey {
  type: "X25519" | "ssh-ed25519";
  recipient: string;
  fingerprint: string;
}

export interface ShareRecipient {
  developerId: string;
  name: string;
  email: string;
  keys: ShareKey[];
  downloads: number;
  downloadsLeft: number | null;
}

export interface ShareDownload {
  id: string;
  developerId: string | null;
  developerName: string | null;
  outcome: "in_progress" | "completed" | "incomplete" | "refused";
  reason: string | null;
  bytesSent: number;
  startedAt: string;
  finishedAt: string | null;
  ip: string | null;
}

export interface Share {
  id: string;
  kind: "file" | "text";
  status: "pending" | "ready" | "revoked" | "expired" | "used_up";
  filename: string | null;
  note: string;
  dataCategories: string[];
  size: number;
  ciphertextBytes: number | null;
  sha256: string | null;
  maxDownloads: number | null;
  oneTime: boolean;
  expiresAt: string;
  createdAt: string;
  uploadedAt: string | null;
  endedAt: string | null;
  contentDeleted: boolean;
  sender: { id: string; name: string };
  recipients: ShareRecipient[];
  uploadUrl: string | null;
  downloads?: ShareDownload[];
}

export interface InboxShare {
  id: string;
  kind: "file" | "text";
  state: "available" | "used_up" | "expired" | "revoked";
  filename: string | null;
  note: string;
  dataCategories: string[];
  size: number;
  ciphertextBytes: number | null;
  sha256: string | null;
  oneTime: boolean;
  downloads: number;
  downloadsLeft: number | null;
  expiresAt: string;
  sentAt: string;
  sender: { name: string };
  keys: ShareKey[];
}

export interface RecipientCheck {
  query: string;
  developerId: string | null;
  name: string | null;
  email: string | null;
  keys: ShareKey[];
  eligible: boolean;
  problems: string[];
  permittedDataCategories: string[];
}

export const humanBytes = (n: number): string =>
  n < 1024
    ? `${n} B`
    : n < 1024 ** 2
      ? `${(n / 1024).toFixed(1)} KiB`
      : n < 1024 ** 3
        ? `${(n / 1024 ** 2).toFixed(1)} MiB`
        : `${(n / 1024 ** 3).toFixed(2)} GiB`;

export const statusLabel: Record<Share["status"] | InboxShare["state"], string> = {
  pending: "upload pending",
  ready: "available",
  available: "available",
  revoked: "revoked",
  expired: "expired",
  used_up: "used up",
};

export const statusTone = (s: Share["status"] | InboxShare["state"]): "ok" | "bad" | "warn" | "muted" =>
  s === "ready" || s === "available" ? "ok" : s === "pending" ? "warn" : "muted";

/** Saves a Blob under a file name through a temporary link (the browser's own download). */
export function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
