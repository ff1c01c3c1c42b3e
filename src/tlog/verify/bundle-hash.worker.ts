/** Worker-thread entry (Piscina): checks a window of entry bundles for a full verification. */
import { type BundleJob, checkBundles } from "./bundle-hash.ts";

export default function run(job: BundleJob) {
  return checkBundles(job);
}
