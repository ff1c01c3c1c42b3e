-- SSH grants certify every key the developer registered (issue 3): each certificate names the key it
-- certifies (SHA256 fingerprint, as ssh-keygen -l prints it), so a developer can fetch the certificate
-- for the key they log in with, ask for one for a key registered later, and so a key removed from
-- their profile has its certificates revoked (put in the KRL). Certificates issued before this
-- migration have no recorded key (null).
alter table access_ssh_certificates add column key_fingerprint text;
create index access_ssh_certificates_key_idx on access_ssh_certificates (grant_id, key_fingerprint);
