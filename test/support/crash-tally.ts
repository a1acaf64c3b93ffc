/**
 * Counts the checked units of a crash script (SIGKILL cycles, fault cases) and prints the
 * summary line every crash script ends with: `N passed, M failed (<what was counted>)`.
 * A unit passes when it produced no problem; the script then asserts that none failed, so a
 * failed unit fails the test (and the process exits non-zero).
 */
export class CrashTally {
  readonly #label: string
  passed = 0
  failed = 0
  /** `<unit>: <problem>` for every problem seen, in order. */
  readonly failures: string[] = []

  constructor (label: string) {
    this.#label = label
  }

  record (unit: string, problems: string[]): boolean {
    if (problems.length === 0) {
      this.passed++
      return true
    }
    this.failed++
    for (const problem of problems) this.failures.push(`${unit}: ${problem}`)
    return false
  }

  /** Runs one unit; a thrown error is its problem (and is rethrown, to fail its test). */
  async run (unit: string, check: () => Promise<void>): Promise<void> {
    try {
      await check()
      this.record(unit, [])
    } catch (error) {
      this.record(unit, [error instanceof Error ? error.message : String(error)])
      throw error
    }
  }

  line (): string {
    return `${this.passed} passed, ${this.failed} failed (${this.#label})`
  }

  /** Prints the summary line. */
  print (): void {
    console.log(this.line())
  }
}

/** The median and maximum of some durations, for the recovery-time report. */
export function medianAndMax (values: number[]): { median: number, max: number } {
  const sorted = [...values].sort((a, b) => a - b)
  return { median: sorted[sorted.length >> 1] ?? 0, max: sorted.at(-1) ?? 0 }
}
