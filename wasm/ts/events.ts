// Typed events of the package. Each is a plain DOM `Event` subclass, so listeners work with
// `addEventListener` exactly as for any browser API, and TypeScript knows their fields.

import type { Call } from './call.js';

/** State of the WebSocket connection. */
export type TransportState = 'disconnected' | 'connecting' | 'connected';

/** State of the registration. */
export type RegistrationState = 'unregistered' | 'registering' | 'registered' | 'failed';

/** State of a call. */
export type CallState =
  | 'calling' // INVITE sent
  | 'ringing' // 180 / 183 received
  | 'incoming' // INVITE received, not answered yet
  | 'answering' // 200 sent, waiting for ACK
  | 'established'
  | 'ended';

/** Why a call ended. */
export type EndReason =
  | 'local'
  | 'remote'
  | 'rejected'
  | 'cancelled'
  | 'timeout'
  | 'session_expired'
  | 'replaced'
  | 'failed';

/** `transportstatechange` on a UserAgent. */
export class TransportStateEvent extends Event {
  constructor(
    readonly state: TransportState,
    /** The server URL (connecting/connected). */
    readonly url: string,
    /** Milliseconds until the next connection attempt (disconnected; -1: none). */
    readonly retryIn: number,
  ) {
    super('transportstatechange');
  }
}

/** `registrationstatechange` on a UserAgent. */
export class RegistrationStateEvent extends Event {
  constructor(
    readonly state: RegistrationState,
    /** SIP status of a failure (401, 403, 408…), 0 otherwise. */
    readonly code: number,
    /** Lifetime granted by the registrar in seconds (registered). */
    readonly expires: number,
  ) {
    super('registrationstatechange');
  }
}

/** `incomingcall` on a UserAgent: answer with `call.answer()` or `call.reject()`. */
export class IncomingCallEvent extends Event {
  constructor(readonly call: Call) {
    super('incomingcall');
  }
}

/** `message` on a UserAgent: a SIP MESSAGE (RFC 3428) arrived. */
export class SipMessageEvent extends Event {
  constructor(
    /** The sender (From header). */
    readonly from: string,
    readonly body: string,
    readonly contentType: string,
  ) {
    super('message');
  }
}

/** `statechange` on a Call. */
export class CallStateEvent extends Event {
  constructor(
    readonly state: CallState,
    /** For `ended`: why. */
    readonly reason?: EndReason,
    /** For `ended` by rejection: the SIP status. */
    readonly code?: number,
  ) {
    super('statechange');
  }
}

/** `dtmf` on a Call: a digit arrived by SIP INFO. */
export class DtmfEvent extends Event {
  constructor(
    readonly digit: string,
    readonly duration: number,
  ) {
    super('dtmf');
  }
}

/** `transferprogress` on a Call we transferred (NOTIFY sipfrag status). */
export class TransferProgressEvent extends Event {
  constructor(readonly code: number) {
    super('transferprogress');
  }
}

/** `referred` on a Call: the peer asks us to call `target` (REFER). */
export class ReferEvent extends Event {
  constructor(
    /** The Refer-To URI. */
    readonly referTo: string,
    /** Calls the target (with the same media options); the old call ends when it connects. */
    readonly accept: () => Promise<Call>,
  ) {
    super('referred');
  }
}

/** Events of a UserAgent. */
export interface UserAgentEventMap {
  transportstatechange: TransportStateEvent;
  registrationstatechange: RegistrationStateEvent;
  incomingcall: IncomingCallEvent;
  message: SipMessageEvent;
}

/** Events of a Call. */
export interface CallEventMap {
  statechange: CallStateEvent;
  dtmf: DtmfEvent;
  transferprogress: TransferProgressEvent;
  referred: ReferEvent;
  /** The remote audio track arrived (see `call.remoteStream`). */
  track: Event;
}

/** An error of a SIP operation; `code` is the SIP status or a short name. */
export class SipError extends Error {
  constructor(
    message: string,
    readonly code: number | string,
  ) {
    super(message);
    this.name = 'SipError';
  }
}

const ERRORS: Record<number, [string, string]> = {
  [-1]: ['unknown-call', 'unknown call'],
  [-2]: ['invalid-state', 'not allowed in the current state'],
  [-3]: ['no-route', 'no route to the target'],
  [-4]: ['busy', 'too many calls'],
};

/** Throws the SipError for a negative result code of the wasm core. */
export function check(r: number): number {
  const e = ERRORS[r];
  if (r < 0) throw new SipError(e ? e[1] : 'error', e ? e[0] : r);
  return r;
}
