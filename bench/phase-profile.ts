import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Session } from 'node:inspector/promises';

// BENCH_PROFILE_DIR=DIR: a CPU profile of one measuring phase (not the setup before it), written to DIR as
// `<name>.cpuprofile` for Chrome DevTools or a script. A profile of the whole run (`node --cpu-prof`) is mostly
// setup: at 1 000 sessions the starts, listen keys and reconcile reads outweigh what the sweep measures.

/** Sampling interval of the phase profile (µs): V8's default (1 000) misses most of a 2 ms step. */
const phaseProfileIntervalUs = 200;

export interface PhaseProfile {
  /** Stops the profiler and writes the profile (a no-op when BENCH_PROFILE_DIR is unset). */
  stop(): Promise<void>;
}

export async function startPhaseProfile(name: string): Promise<PhaseProfile> {
  const dir = process.env.BENCH_PROFILE_DIR;
  if (!dir) return { stop: async () => undefined };
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: phaseProfileIntervalUs });
  await session.post('Profiler.start');
  return {
    async stop() {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(join(dir, `${name}.cpuprofile`), JSON.stringify(profile));
      session.disconnect();
    },
  };
}
