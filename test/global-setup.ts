// Replaced by the store template set-up once the store exists.
export default async function setup(): Promise<void> {}
