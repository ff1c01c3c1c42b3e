import { useState } from "react";
import {
  type AgeKeyPair,
  decryptStream,
  generateKeyPair,
  identityFileText,
  recipientsOfIdentities,
} from "../../../src/crypto/age/age.browser.ts";
import { type ApiError, api, type Page as ListPage, postForStream } from "../api.ts";
import { Page, Section } from "../components/page.tsx";
import { dateTime, Empty, ErrorBox, Loading, Tag } from "../components/status.tsx";
import { useResource } from "../hooks.ts";
import type { Developer } from "./developers.tsx";
import { humanBytes, type InboxShare, saveBlob, statusLabel, statusTone } from "./shares-model.ts";

/**
 * The developer's shares: an age key made in this browser (the secret half never leaves it), and the
 * inbox, where opening a share shows what it is and only an explicit "Download and decrypt" (a POST)
 * uses a download — link previews and prefetchers cannot spend a one-time share.
 */
export function MySharesPage() {
  const me = useResource<Developer>("/me/profile");
  const inbox = useResource<ListPage<InboxShare>>("/me/shares?limit=100");
  return (
    <Page
      title="My shares"
      lead="Files and secrets sent to you, end-to-end encrypted to your keys. You decrypt them here or with the CLI."
    >
      <Section title="Shares sent to you">
        {inbox.error && <ErrorBox error={inbox.error} what="Your shares" />}
        {inbox.loading && !inbox.data && <Loading />}
        {inbox.data?.items.length === 0 && <Empty>Nothing has been sent to you.</Empty>}
        {inbox.data && inbox.data.items.length > 0 && (
          <ul className="share-list">
            {inbox.data.items.map((s) => (
              <InboxItem key={s.id} share={s} onUsed={inbox.reload} />
            ))}
          </ul>
        )}
      </Section>
      <Section title="Your age key">
        {me.error && <ErrorBox error={me.error} what="Your profile" />}
        {me.data && <KeySetup me={me.data} onSaved={me.reload} />}
      </Section>
    </Page>
  );
}

function InboxItem({ share, onUsed }: { share: InboxShare; onUsed(): void }) {
  const [open, setOpen] = useState(false);
  const [identity, setIdentity] = useState("");
  const [busy, setBusy] = useState("");
  const [error, setError] = useState<ApiError | Error>();
  const [secret, setSecret] = useState<string>();
  const name = share.kind === "text" ? "Text secret" : (share.filename ?? "file");

  const fits = () => {
    let mine: string[];
    try {
      mine = recipientsOfIdentities([identity]);
    } catch (e) {
      throw new Error(`That is not an identity Warden can use: ${(e as Error).message}`);
    }
    const keys = new Set(share.keys.map((k) => k.recipient));
    if (!mine.some((r) => keys.has(r)))
      throw new Error(
        "This identity is not one of the keys the share was encrypted to (no download was used).",
      );
  };

  const reveal = async (encryptedOnly: boolean) => {
    setError(undefined);
    try {
      if (!encryptedOnly) fits();
      setBusy("Downloading…");
      const res = await postForStream(`/me/shares/${share.id}/download`);
      if (encryptedOnly) {
        saveBlob(await res.blob(), `${name}.age`);
      } else {
        setBusy("Decrypting in your browser…");
        const plain = await new Response(await decryptStream(res.body!, [identity])).blob();
        if (share.kind === "text") setSecret(await plain.text());
        else saveBlob(plain, share.filename ?? "share");
      }
    } catch (e) {
      setError(e as Error);
    } finally {
      setBusy("");
      onUsed();
    }
  };

  return (
    <li className="share-item">
      <div className="share-summary">
        <strong>{name}</strong> <span className="muted">{humanBytes(share.size)}</span>{" "}
        <Tag tone={statusTone(share.state)}>{statusLabel[share.state]}</Tag>
        <span className="muted">
          {" "}
          from {share.sender.name}, {dateTime(share.sentAt)} · until {dateTime(share.expiresAt)} ·{" "}
          {share.downloadsLeft === null ? "no download limit" : `${share.downloadsLeft} download(s) left`}
        </span>{" "}
        {share.state === "available" && !open && (
          <button type="button" className="small" onClick={() => setOpen(true)}>
            Open
          </button>
        )}
      </div>
      {open && (
        <div className="share-open">
          {share.note && (
            <p>
              <em>Note:</em> {share.note}
            </p>
          )}
          <p className="hint">
            Data: {share.dataCategories.join(", ")}. Encrypted to{" "}
            {share.keys.map((k) => (
              <code key={k.recipient}>
                {k.type === "X25519" ? `${k.fingerprint.slice(0, 16)}…` : k.fingerprint}
              </code>
            ))}
            . With the CLI: <code>warden share get {share.id}</code>
          </p>
          <div className="field">
            <label htmlFor={`identity-${share.id}`}>
              Your identity (AGE-SECRET-KEY-1… or OpenSSH Ed25519 key)
            </label>
            <textarea
              id={`identity-${share.id}`}
              className="mono"
              rows={3}
              value={identity}
              autoComplete="off"
              spellCheck={false}
              onChange={(e) => setIdentity(e.target.value)}
            />
            <input
              type="file"
              aria-label="Or load the identity file"
              onChange={async (e) => setIdentity((await e.target.files?.[0]?.text()) ?? "")}
            />
            <p className="hint">It stays in this page: it is never sent to Warden.</p>
          </div>
          <div className="actions">
            <button type="button" disabled={!!busy || !identity} onClick={() => reveal(false)}>
              Download and decrypt{share.oneTime ? " (uses the one download)" : ""}
            </button>{" "}
            <button type="button" className="link" disabled={!!busy} onClick={() => reveal(true)}>
              Save the encrypted file instead (for <code>age -d</code>)
            </button>
          </div>
          {busy && (
            <p className="notice" role="status">
              {busy}
            </p>
          )}
          {error && (
            <div className="error-box" role="alert">
              {error.message}
            </div>
          )}
          {secret !== undefined && (
            <div className="secret">
              <pre title="The decrypted secret">{secret}</pre>
              <button type="button" className="small" onClick={() => navigator.clipboard?.writeText(secret)}>
                Copy
              </button>
            </div>
          )}
        </div>
      )}
    </li>
  );
}

/** Creates an X25519 key pair here; the identity file is offered for download, the public key registered. */
function KeySetup({ me, onSaved }: { me: Developer; onSaved(): void }) {
  const [pair, setPair] = useState<AgeKeyPair>();
  const [savedFile, setSavedFile] = useState(false);
  const [error, setError] = useState<ApiError>();
  const [done, setDone] = useState(false);
  const register = async () => {
    setError(undefined);
    try {
      await api.patch("/me/profile", { ageRecipients: [...me.ageRecipients, pair!.recipient] });
      setDone(true);
      setPair(undefined);
      onSaved();
    } catch (e) {
      setError(e as ApiError);
    }
  };
  return (
    <>
      {me.ageRecipients.length > 0 ? (
        <>
          <p>Your registered age keys (shares are encrypted to all of them, and to your ssh-ed25519 keys):</p>
          <ul className="key-list">
            {me.ageRecipients.map((r) => (
              <li key={r}>
                <code>{r}</code>
              </li>
            ))}
          </ul>
        </>
      ) : (
        <p>You have no age key registered yet: nobody can send you a share until you do.</p>
      )}
      {done && (
        <p className="success" role="status">
          Your public key is registered. Keep the identity file safe: Warden cannot recover it.
        </p>
      )}
      {!pair ? (
        <button
          type="button"
          onClick={() => {
            setPair(generateKeyPair());
            setSavedFile(false);
            setDone(false);
          }}
        >
          Create a key pair in this browser
        </button>
      ) : (
        <div className="key-setup">
          <p>
            Public key: <code>{pair.recipient}</code>
          </p>
          <p className="hint">
            The secret half exists only in this page. Download it now and keep it (a password manager, or{" "}
            <code>~/.config/age/keys.txt</code> with mode 600): Warden never sees it and cannot recover it.
          </p>
          <button
            type="button"
            onClick={() => {
              saveBlob(
                new Blob([identityFileText(pair, new Date())], { type: "text/plain" }),
                "warden-age-identity.txt",
              );
              setSavedFile(true);
            }}
          >
            Download the identity file
          </button>{" "}
          <button type="button" disabled={!savedFile} onClick={register}>
            Register the public key
          </button>
          {error && <ErrorBox error={error} />}
        </div>
      )}
    </>
  );
}
