import type { CliIo } from './io.js';

/**
 * Characters a terminal acts on rather than shows: C0 controls (ESC starts colour and cursor
 * sequences, BEL rings, CR overwrites the line), DEL, C1 controls (0x9B is a one-byte CSI in
 * some terminals), the line and paragraph separators, and the bidirectional overrides and
 * isolates that make text read in another order than it is ("Trojan Source").
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * `text` with every control character written as a visible escape (`\x1b`, `\u202e`), so that
 * text from a server, a key file or an argument can be printed without driving the terminal.
 * Line breaks are escaped too: callers that print several lines escape each line.
 */
export function escapeControl(text: string): string {
  return text.replace(CONTROL, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff
      ? `\\x${code.toString(16).padStart(2, '0')}`
      : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** Writes `drillster-auth: warning: <message>` on stderr, control characters escaped. */
export function warn(io: CliIo, message: string): void {
  io.stderr.write(`drillster-auth: warning: ${escapeControl(message)}\n`);
}
