// The two Node built-ins the vitest files here use (the app has no @types/node).
declare module "node:fs" {
  export function readFileSync(path: string | URL, encoding: "utf8"): string;
}
