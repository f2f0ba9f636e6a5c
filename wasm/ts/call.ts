// One call: the SIP side lives in the wasm core (INVITE, re-INVITE, INFO, REFER, BYE);
// this class owns the RTCPeerConnection and the local microphone track, and turns the
// core's events into call states.

import {
  CallStateEvent,
  DtmfEvent,
  ReferEvent,
  SipError,
  TransferProgressEvent,
  type CallEventMap,
  type CallState,
  type EndReason,
} from './events.js';
import { hasTelephoneEvent, iceGathered, readStats, sleep, type CallStats, type StatsCursor } from './media.js';

/** Media options of a call. */
export interface CallOptions {
  /** `true` (default) or constraints for `getUserMedia({ audio })`. */
  audio?: boolean | MediaTrackConstraints;
}

/** @internal What a Call needs from its UserAgent. */
export interface CallHost {
  /** Runs operation `op` of the core (wasm/src/lib.rs `op`); its checked number result. */
  cmd(op: number, call?: number, n?: number, data?: string): number;
  pump(): void;
  readonly iceServers: RTCIceServer[];
  readonly iceGatheringTimeout: number;
  adopt(id: number, call: Call): void;
  forget(call: Call): void;
  transferTo(from: Call, target: string, opts: CallOptions): Promise<Call>;
}

interface Pending {
  resolve: (sdp: string | undefined) => void;
  reject: (e: Error) => void;
}

export interface Call {
  addEventListener<K extends keyof CallEventMap>(
    type: K,
    listener: (this: Call, ev: CallEventMap[K]) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  removeEventListener<K extends keyof CallEventMap>(
    type: K,
    listener: (this: Call, ev: CallEventMap[K]) => unknown,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void;
}

/** A call (one INVITE dialog) with its audio. */
export class Call extends EventTarget {
  /** The core's handle (0 until the INVITE is sent). */
  id = 0;
  state: CallState;
  /** Whether we put the call on hold. */
  held = false;
  /** Whether our microphone is muted. */
  muted = false;
  /** Why the call ended (state `ended`). */
  endReason?: EndReason;
  /** The remote party's audio; attach it to an `<audio autoplay>` element. */
  readonly remoteStream: MediaStream = new MediaStream();
  /** Our microphone stream. */
  localStream?: MediaStream;
  /** `performance.now()` when the call was established (0 before). */
  startTime = 0;
  /** The call's RTCPeerConnection (for advanced use: extra stats, audio processing). */
  pc?: RTCPeerConnection;
  private offer?: string;
  private remoteSdp = '';
  private pending?: Pending;
  private chain: Promise<unknown> = Promise.resolve();
  private cursor: StatsCursor = { lost: 0, received: 0 };
  private options: CallOptions = {};

  /** @internal */
  constructor(
    private readonly host: CallHost,
    readonly direction: 'outgoing' | 'incoming',
    /** The other party (Request-URI we called, or the caller's From). */
    readonly remoteIdentity: string,
    offer?: string,
  ) {
    super();
    this.state = direction === 'outgoing' ? 'calling' : 'incoming';
    this.offer = offer;
  }

  private setState(state: CallState, reason?: EndReason, code?: number): void {
    if (this.state === state || this.state === 'ended') return;
    this.state = state;
    if (state === 'established') this.startTime = performance.now();
    if (state === 'ended') {
      this.endReason = reason;
      this.close();
      this.pending?.reject(new SipError('call ended', code ?? reason ?? 'ended'));
      this.pending = undefined;
    }
    this.dispatchEvent(new CallStateEvent(state, reason, code));
  }

  private close(): void {
    this.localStream?.getTracks().forEach((t) => t.stop());
    this.pc?.close();
    this.host.forget(this);
  }

  /** Creates the peer connection with the microphone; returns our SDP after gathering. */
  private async media(opts: CallOptions, remoteOffer?: string): Promise<string> {
    this.options = opts;
    const stream = await navigator.mediaDevices.getUserMedia({ audio: opts.audio ?? true });
    if (this.state === 'ended') {
      stream.getTracks().forEach((t) => t.stop());
      throw new SipError('call ended', 'ended');
    }
    this.localStream = stream;
    const pc = new RTCPeerConnection({ iceServers: this.host.iceServers });
    this.pc = pc;
    pc.addEventListener('track', (e) => {
      this.remoteStream.addTrack(e.track);
      this.dispatchEvent(new Event('track'));
    });
    for (const t of stream.getAudioTracks()) pc.addTrack(t, stream);
    if (remoteOffer) {
      await pc.setRemoteDescription({ type: 'offer', sdp: remoteOffer });
      this.remoteSdp = remoteOffer;
      await pc.setLocalDescription(await pc.createAnswer());
    } else {
      await pc.setLocalDescription(await pc.createOffer());
    }
    await iceGathered(pc, this.host.iceGatheringTimeout);
    return pc.localDescription?.sdp ?? '';
  }

  /** @internal Places the call (UserAgent.call). */
  async dial(target: string, opts: CallOptions, referredBy?: Call): Promise<void> {
    try {
      const sdp = await this.media(opts);
      if (this.state === 'ended') throw new SipError('call ended', 'ended');
      // A transfer target is called by the core on behalf of the REFER (operation 18), which
      // then reports progress to the transferor (NOTIFY with sipfrag, RFC 3515); else a call
      // (11). The target, U+001F, the SDP.
      this.id = this.host.cmd(referredBy ? 18 : 11, referredBy?.id, 0, target + '\x1f' + sdp);
      this.host.adopt(this.id, this);
    } catch (e) {
      this.setState('ended', 'failed');
      throw e;
    } finally {
      this.host.pump();
    }
  }

  /** Answers an incoming call. */
  async answer(opts: CallOptions = {}): Promise<void> {
    if (this.state !== 'incoming') throw new SipError('not an unanswered incoming call', 'invalid-state');
    this.state = 'answering';
    try {
      const sdp = await this.media(opts, this.offer);
      this.host.cmd(12, this.id, 0, sdp);
      this.dispatchEvent(new CallStateEvent('answering'));
    } catch (e) {
      if ((this.state as CallState) !== 'ended') {
        this.state = 'incoming';
        this.reject(488);
      }
      throw e;
    } finally {
      this.host.pump();
    }
  }

  /** Rejects an incoming call with a SIP status (default 486 Busy Here). */
  reject(code = 486): void {
    this.run(13, code);
  }

  /** Hangs up (CANCEL, decline or BYE, as the state requires). */
  hangup(): void {
    if (this.state === 'ended') return;
    if (this.id === 0) {
      // Still gathering: nothing was sent yet.
      this.setState('ended', 'local');
      return;
    }
    this.run(14);
  }

  /** Runs operation `op` of the core for this call (then pumps it). */
  private run(op: number, n = 0, data = ''): void {
    try {
      this.host.cmd(op, this.id, n, data);
    } finally {
      this.host.pump();
    }
  }

  /** Puts the call on hold (re-INVITE with `a=sendonly`). */
  hold(): Promise<void> {
    return this.direction_('sendonly').then(() => {
      this.held = true;
    });
  }

  /** Resumes a held call (re-INVITE with `a=sendrecv`). */
  unhold(): Promise<void> {
    return this.direction_('sendrecv').then(() => {
      this.held = false;
    });
  }

  private direction_(dir: RTCRtpTransceiverDirection): Promise<void> {
    const job = this.chain.then(async () => {
      const pc = this.pc;
      if (!pc || this.state !== 'established') throw new SipError('call not established', 'invalid-state');
      const tr = pc.getTransceivers()[0];
      const before = tr.direction;
      tr.direction = dir;
      await pc.setLocalDescription(await pc.createOffer());
      await iceGathered(pc, this.host.iceGatheringTimeout);
      try {
        const answer = await new Promise<string | undefined>((resolve, reject) => {
          this.pending = { resolve, reject };
          try {
            this.run(15, 0, pc.localDescription?.sdp);
          } catch (e) {
            this.pending = undefined;
            reject(e);
          }
        });
        if (answer) {
          await pc.setRemoteDescription({ type: 'answer', sdp: answer });
          this.remoteSdp = answer;
        }
      } catch (e) {
        if (pc.signalingState !== 'closed') {
          await pc.setLocalDescription({ type: 'rollback' }).catch(() => undefined);
          tr.direction = before;
        }
        throw e;
      }
    });
    this.chain = job.catch(() => undefined);
    return job;
  }

  /** Mutes our microphone (the track sends silence; no renegotiation). */
  mute(): void {
    this.muted = true;
    this.localStream?.getAudioTracks().forEach((t) => (t.enabled = false));
  }

  /** Unmutes our microphone. */
  unmute(): void {
    this.muted = false;
    this.localStream?.getAudioTracks().forEach((t) => (t.enabled = true));
  }

  /**
   * Sends DTMF digits (`0-9 * # A-D`, `,` = 2 s pause): RFC 4733 in RTP through
   * RTCDTMFSender when the remote SDP has `telephone-event`, SIP INFO otherwise.
   * Resolves when the last tone has been sent.
   */
  async sendDtmf(digits: string, { duration = 100, gap = 70 } = {}): Promise<void> {
    if (!/^[0-9A-D*#,]*$/i.test(digits)) throw new SipError('invalid DTMF digits', 'invalid-digits');
    if (this.state !== 'established') throw new SipError('call not established', 'invalid-state');
    duration = Math.min(Math.max(duration, 40), 6000);
    gap = Math.max(gap, 30);
    const sender = this.pc?.getSenders().find((s) => s.track?.kind === 'audio');
    const dtmf = sender?.dtmf;
    if (dtmf && dtmf.canInsertDTMF && hasTelephoneEvent(this.remoteSdp)) {
      await new Promise<void>((resolve) => {
        const onTone = (e: RTCDTMFToneChangeEvent): void => {
          if (e.tone === '') {
            dtmf.removeEventListener('tonechange', onTone);
            resolve();
          }
        };
        dtmf.addEventListener('tonechange', onTone);
        dtmf.insertDTMF(digits, duration, gap);
      });
      return;
    }
    for (const d of digits.toUpperCase()) {
      if (d === ',') {
        await sleep(2000);
        continue;
      }
      this.run(16, duration, d);
      await sleep(duration + gap);
    }
  }

  /**
   * Blind transfer (REFER) to `target`. Resolves when the transfer target answers (NOTIFY
   * 200), rejects on failure. Hang up afterwards (the peer usually does).
   */
  transfer(target: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const onProgress = (e: TransferProgressEvent): void => {
        if (e.code < 200) return;
        this.removeEventListener('transferprogress', onProgress);
        if (e.code < 300) resolve();
        else reject(new SipError('transfer failed', e.code));
      };
      this.addEventListener('transferprogress', onProgress);
      try {
        this.run(17, 0, target.trim());
      } catch (e) {
        this.removeEventListener('transferprogress', onProgress);
        reject(e);
      }
    });
  }

  /** Switches the microphone to `deviceId` (replaceTrack: no renegotiation). */
  async setInputDevice(deviceId: string): Promise<void> {
    const audio: MediaTrackConstraints = {
      ...(typeof this.options.audio === 'object' ? this.options.audio : {}),
      deviceId: { exact: deviceId },
    };
    const stream = await navigator.mediaDevices.getUserMedia({ audio });
    const track = stream.getAudioTracks()[0];
    track.enabled = !this.muted;
    const sender = this.pc?.getSenders().find((s) => s.track?.kind === 'audio' || !s.track);
    if (!sender) {
      track.stop();
      throw new SipError('no audio sender', 'invalid-state');
    }
    await sender.replaceTrack(track);
    this.localStream?.getTracks().forEach((t) => t.stop());
    this.localStream = stream;
  }

  /** Audio quality: jitter, loss, RTT and MOS (E-model). */
  async stats(): Promise<CallStats> {
    if (!this.pc) throw new SipError('no media yet', 'invalid-state');
    return readStats(this.pc, this.cursor);
  }

  /** @internal An event of the core for this call (kinds: wasm/src/lib.rs `PhoneEventJs`). */
  async handle(kind: string, code: number, text: string, body?: string): Promise<void> {
    const pc = this.pc;
    switch (kind) {
      case 'g': // ringing
        this.setState('ringing');
        break;
      case 'e': // early
        if (pc && body && pc.signalingState === 'have-local-offer') {
          await pc.setRemoteDescription({ type: 'pranswer', sdp: body }).catch(() => undefined);
          this.remoteSdp = body;
        }
        this.setState('ringing');
        break;
      case 'a': // answered
        if (pc && this.direction === 'outgoing') {
          const sdp = body ?? this.remoteSdp;
          if (pc.signalingState !== 'stable' && sdp) {
            await pc.setRemoteDescription({ type: 'answer', sdp });
            this.remoteSdp = sdp;
          }
        } else if (pc && body && pc.signalingState === 'have-local-offer') {
          // We answered a late-offer INVITE with an offer: the ACK carries the answer.
          await pc.setRemoteDescription({ type: 'answer', sdp: body });
          this.remoteSdp = body;
        }
        this.setState('established');
        break;
      case 'E': // ended
        this.setState('ended', text as EndReason, code || undefined);
        break;
      case 'o': // offer
        await this.answerOffer(body);
        break;
      case 'm': // mediaUpdated
        this.pending?.resolve(body);
        this.pending = undefined;
        break;
      case 'O': // offerRejected
        this.pending?.reject(new SipError('re-INVITE rejected', code));
        this.pending = undefined;
        break;
      case 'D': // dtmf
        this.dispatchEvent(new DtmfEvent(text, code));
        break;
      case 'T': // transferProgress
        this.dispatchEvent(new TransferProgressEvent(code));
        break;
      case 't': // transferRequested
        this.dispatchEvent(
          new ReferEvent(text, () => this.host.transferTo(this, text, this.options)),
        );
        break;
    }
  }

  /** The peer sent a re-INVITE/UPDATE: answer it from the peer connection. */
  private answerOffer(offer?: string): Promise<void> {
    const job = this.chain.then(async () => {
      const pc = this.pc;
      if (!pc) return;
      try {
        let sdp: string;
        if (offer) {
          await pc.setRemoteDescription({ type: 'offer', sdp: offer });
          this.remoteSdp = offer;
          await pc.setLocalDescription(await pc.createAnswer());
          await iceGathered(pc, this.host.iceGatheringTimeout);
          sdp = pc.localDescription?.sdp ?? '';
        } else {
          // Offerless re-INVITE: offer our current session again.
          sdp = pc.localDescription?.sdp ?? '';
        }
        this.run(12, 0, sdp);
      } catch {
        this.run(13, 488);
      }
    });
    this.chain = job.catch(() => undefined);
    return job;
  }
}
