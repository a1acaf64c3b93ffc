#!/usr/bin/env -S node --max-semi-space-size=4
// The `tributary` command. The TypeScript sources are compiled to dist/ by `npm install` (the
// package's `dependencies` script, which npm runs when an install changes node_modules; unlike
// `prepare` it is not an install script, so `npm link` runs nothing and does not warn),
// `npm start` (its `prestart`) or `npm run build`.
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const entry = new URL('../dist/src/cli/index.js', import.meta.url)
if (!existsSync(fileURLToPath(entry))) {
  console.error('tributary: dist/ is missing; run `npm run build` first')
  process.exit(1)
}
const { main } = await import(entry.href)
await main(process.argv)
