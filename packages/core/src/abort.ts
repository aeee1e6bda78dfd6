import { AbortError } from './errors.js';

/** `promise`, or an {@link AbortError} as soon as `signal` fires; the promise itself goes on. */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** The error of a caller that stopped waiting for its token, with the signal's reason as `cause`. */
export function abortError(signal: AbortSignal): AbortError {
  return new AbortError('ERR_ABORTED', 'Waiting for the access token was aborted', {
    cause: signal.reason,
  });
}
