/**
 * An error whose message is written for the user: what went wrong and what to do next.
 * Anything else that escapes the engine is a bug, and is shown with "see the output".
 */
export class DoctorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DoctorError';
  }
}
