/**
 * Hands out producer ids for InitProducerId. Ids come in blocks reserved durably by the
 * controller (a ProducerIds metadata record, KIP-730), so an id is never handed out twice, also
 * across restarts: a restart skips the rest of the block it had, which wastes at most one block.
 *
 * Concurrency: callers that arrive while a block is being reserved wait for that one
 * reservation instead of reserving one each.
 */
import type { Controller } from '../controller/controller.js'
import { assert } from '../util/assert.js'

export class ProducerIdManager {
  readonly #controller: Controller
  #next = 0
  #end = 0
  #reserving: Promise<void> | undefined

  constructor (controller: Controller) {
    this.#controller = controller
  }

  async nextProducerId (): Promise<number> {
    while (this.#next >= this.#end) {
      this.#reserving ??= this.#reserve()
      await this.#reserving
    }
    const id = this.#next++
    // Ids within a block increase, and blocks never go back (the image asserts it).
    assert(id < this.#end, 'producer id within its reserved block')
    return id
  }

  async #reserve (): Promise<void> {
    try {
      const block = await this.#controller.allocateProducerIdBlock()
      assert(block.first >= this.#end, 'producer id blocks never overlap')
      this.#next = block.first
      this.#end = block.end
    } finally {
      this.#reserving = undefined
    }
  }
}
