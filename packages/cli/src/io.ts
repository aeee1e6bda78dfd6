/** Something text can be written to, like `process.stdout`. */
export interface TextSink {
  write(chunk: string): unknown;
}

/** Where {@link main} reads its environment from and writes its output to. */
export interface CliIo {
  /** Receives the command's result (a token, an assertion, a report). */
  stdout: TextSink;
  /** Receives the one-line error message on failure, and nothing else a script would parse. */
  stderr: TextSink;
  /** Environment variables, like `process.env`. */
  env: Record<string, string | undefined>;
  /**
   * Where `keygen` reads the ids it asks for; it asks only when `isTTY` is true. Default: no
   * input, so no command ever waits for one.
   */
  stdin?: AsyncIterable<string | Uint8Array> & { isTTY?: boolean | undefined };
  /**
   * Stops long-running commands (`mock-server`) when it aborts. Default: the process's
   * SIGINT and SIGTERM.
   */
  signal?: AbortSignal;
}
