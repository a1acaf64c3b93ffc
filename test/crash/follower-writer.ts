/**
 * Child process of the follower crash test: replicates a prepared leader log into a follower
 * log as a replica fetcher would (reads of seeded random sizes from the follower's log end,
 * `appendAsFollower`, the high watermark raised to what it acknowledged) and prints
 * `ACK <acknowledgedEnd>` after each append. Now and then (and whenever it has caught up) it
 * truncates the follower back a seeded random distance, printing `TRUNCATING` before and
 * `TRUNCATED <logEnd>` after, so kills land in appends, rolls, truncations and checkpoint writes.
 *   node follower-writer.js <leaderDir> <followerDir> <seed>
 */
import { LogManager } from '../../src/storage/log-manager.js'
import { seededRandom } from '../support/seeded-random.js'
import { FOLLOWER_CONFIG } from './follower-log.js'

const [leaderDir, followerDir, seed] = process.argv.slice(2)
const random = seededRandom(Number(seed))
const leaders = await LogManager.open({ dataDir: leaderDir as string, nodeId: 1,
  defaultConfig: FOLLOWER_CONFIG })
const followers = await LogManager.open({ dataDir: followerDir as string, nodeId: 2,
  defaultConfig: FOLLOWER_CONFIG })
const leader = leaders.getLog('crash', 0)
if (leader === undefined) throw new Error(`no leader log in ${String(leaderDir)}`)
const follower = await followers.getOrCreateLog('crash', 0)
follower.setReplicated(true)

process.stdout.write('READY\n')
for (;;) {
  if (follower.logEndOffset >= leader.logEndOffset || random() < 0.1) {
    const back = 1 + Math.floor(random() * 60)
    process.stdout.write('TRUNCATING\n')
    await follower.truncateTo(Math.max(follower.logStartOffset, follower.logEndOffset - back))
    process.stdout.write(`TRUNCATED ${follower.logEndOffset}\n`)
    continue
  }
  const maxBytes = 100 + Math.floor(random() * 6000)
  const fetchOffset = follower.logEndOffset
  const { records } = await leader.read(fetchOffset, maxBytes)
  // A fetch response may end in a partial batch; the follower ignores it.
  const cut = random() < 0.3 ? Math.floor(random() * 40) : 0
  const appended = await follower.appendAsFollower(records.subarray(0, records.length - cut),
    { fetchOffset })
  if (appended === undefined) continue
  follower.advanceHighWatermark(follower.acknowledgedEndOffset)
  process.stdout.write(`ACK ${follower.acknowledgedEndOffset}\n`)
}
