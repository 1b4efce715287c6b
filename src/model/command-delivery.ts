// Command stream entries as the engine sees them: what the log hands in, and what it is asked to park.

export interface CommandDelivery {
  entryId: string;
  /** The entry's `data` field as stored; may be missing, huge or not JSON. */
  raw: string;
  /** 1 on first delivery; grows each time the entry is reclaimed after its consumer died. */
  deliveryCount: number;
}

/** A command refused for good, as the engine hands it to commit: `raw` is the whole payload. */
export interface DeadLetter {
  entryId: string;
  raw: string;
  reason: string;
}
