import type { CommitBatch, EngineLog } from '../log/port.js';
import { CommitOutcomeUnknownError } from '../log/port.js';
import { createPrng } from '../paper-exchange/price-process.js';
import type { World } from './world.js';

// Commits whose answer is lost: the log writes the step, then the connection breaks before the engine hears so
// (src/engine/commit-outcome.ts). The engine must find the step in its WAL and adopt it as committed; taken for a
// refused commit, its state would lack a step the log holds, which the settled checks catch (replay differs from the
// live state, a command answered but its decision not adopted). And commits lost before the log wrote them: the
// engine finds nothing in the WAL and fails the step; what the step decided must come again (World.submit keeps
// its exchange news, as the service's uncommitted-inputs.ts does; commands are redelivered). How often: the seed's
// fault profile (faults.ts; 3 % of commits writing WAL events land with their answer lost, 2 % are lost, in the standard one).

/** The fault's draws come from a stream of their own: the world's draws, and so every seed's run, stay as they were. */
const lostAnswerSeedOffset = 104_729;

/**
 * The engine's view of `log`: each commit that writes WAL events may land and then answer CommitOutcomeUnknownError.
 * Only those: a step without WAL events leaves nothing in the WAL to tell by and fails as a refused commit does. While
 * world.refusedCommitsOn, any commit may instead be lost before the log. No commitNow: the engine then commits every
 * step through `commit`, as it does on Redis.
 */
export function withLostAnswers(world: World, log: EngineLog): EngineLog {
  const random = createPrng(world.seed + lostAnswerSeedOffset);
  const commit = async (batch: CommitBatch): Promise<string[]> => {
    if (world.refusedCommitsOn && random() < world.faults.lostCommitChance) {
      world.stats.lostCommits += 1;
      world.trace.push(`commit lost before the log (${batch.wal.length} WAL events not written)`);
      throw new CommitOutcomeUnknownError(new Error('simulated: the connection broke before the commit reached the log'));
    }
    const ids = await log.commit(batch);
    if (batch.wal.length > 0 && random() < world.faults.lostCommitAnswerChance) {
      world.stats.lostCommitAnswers += 1;
      world.trace.push(`commit answer lost (${batch.wal.length} WAL events written)`);
      throw new CommitOutcomeUnknownError(new Error('simulated: the connection broke after the commit reached the log'));
    }
    return ids;
  };
  return new Proxy(log, {
    get(target, property) {
      if (property === 'commit') return commit;
      if (property === 'commitNow') return undefined;
      const value: unknown = Reflect.get(target, property);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
