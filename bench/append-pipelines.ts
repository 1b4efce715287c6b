// The bench's one way to append commands in bulk: explicit pipelines of `depth` XADDs, in order, each awaited before
// the next. Used by the harness on the engine's event loop (setup) and by the producer process (append-worker.ts).

/** What of a Redis client the appends use (the harness's and the producer's clients differ in their type options). */
interface PipelineWriter {
  multi(): { xAdd(key: string, id: string, fields: { data: string }): unknown; execAsPipeline(): Promise<unknown> };
}

export async function appendInPipelines(writer: PipelineWriter, key: string, jsons: readonly string[], depth: number): Promise<void> {
  for (let i = 0; i < jsons.length; i += depth) {
    const multi = writer.multi();
    for (const json of jsons.slice(i, i + depth)) multi.xAdd(key, '*', { data: json });
    await multi.execAsPipeline();
  }
}
