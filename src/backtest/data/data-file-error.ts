/** A data file the backtest cannot read as it is: names the file and the line (1-based; 0 = the file as a whole). */
export class DataFileError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(line > 0 ? `${file}:${line}: ${reason}` : `${file}: ${reason}`, options);
    this.name = 'DataFileError';
  }
}
