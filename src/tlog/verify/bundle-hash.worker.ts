/** Worker-thread entry (Piscina): hashes a slice of entry bundles for a full verification. */
import { hashBundles } from "./bundle-hash.ts";

export default function run(bundles: Uint8Array[]) {
  return hashBundles(bundles);
}
