#!/usr/bin/env node
// The `tributary` command. The TypeScript sources are compiled to dist/ by `npm install`
// (the package's `prepare` script) or `npm run build`.
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const entry = new URL('../dist/src/cli/index.js', import.meta.url)
if (!existsSync(fileURLToPath(entry))) {
  console.error('tributary: dist/ is missing; run `npm install` (or `npm run build`) first')
  process.exit(1)
}
const { main } = await import(entry.href)
await main(process.argv)
