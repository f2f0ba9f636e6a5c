// A scripted SIP-over-WebSocket server that lives in the test page: a FakeWebSocket class
// (the WebSocket API the package uses) connected to a registrar/peer that answers with a
// second, real RTCPeerConnection. It checks what the UA sends and records it.

const CRLF = '\r\n';

/** Parses one SIP message (start line, headers in order, body). */
export function parse(text) {
  const i = text.indexOf(CRLF + CRLF);
  const head = text.slice(0, i).split(CRLF);
  const body = text.slice(i + 4);
  const start = head.shift();
  const headers = head.map((l) => {
    const c = l.indexOf(':');
    return [l.slice(0, c).trim(), l.slice(c + 1).trim()];
  });
  const get = (n) => headers.find(([k]) => k.toLowerCase() === n.toLowerCase())?.[1];
  const all = (n) => headers.filter(([k]) => k.toLowerCase() === n.toLowerCase()).map(([, v]) => v);
  const isResponse = start.startsWith('SIP/2.0 ');
  return {
    start,
    headers,
    body,
    get,
    all,
    method: isResponse ? get('CSeq').split(' ')[1] : start.split(' ')[0],
    code: isResponse ? Number(start.split(' ')[1]) : 0,
    uri: isResponse ? '' : start.split(' ')[1],
  };
}

function serialize(start, headers, body = '') {
  let s = start + CRLF;
  for (const [k, v] of headers) s += `${k}: ${v}${CRLF}`;
  return s + `Content-Length: ${new TextEncoder().encode(body).length}${CRLF}${CRLF}${body}`;
}

/** The SDP without RFC 4733 telephone-event (a peer that only takes DTMF by INFO). */
function withoutTelephoneEvent(sdp) {
  const pts = [...sdp.matchAll(/a=rtpmap:(\d+) telephone-event\//gi)].map((m) => m[1]);
  return sdp
    .split('\r\n')
    .filter((l) => !pts.some((pt) => l.startsWith(`a=rtpmap:${pt} `) || l.startsWith(`a=fmtp:${pt} `)))
    .map((l) => (l.startsWith('m=audio') ? l.split(' ').filter((t, i) => i < 3 || !pts.includes(t)).join(' ') : l))
    .join('\r\n');
}

const gathered = (pc) =>
  new Promise((r) => {
    if (pc.iceGatheringState === 'complete') return r();
    pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && r());
    setTimeout(r, 1500);
  });

export class SipServer {
  constructor() {
    this.log = []; // every message received, parsed
    this.sockets = [];
    this.registrations = 0;
    this.challenges = 0;
    this.infoDigits = '';
    this.messages = [];
    this.pcs = new Map(); // Call-ID -> answering RTCPeerConnection
    this.dialogs = new Map(); // Call-ID -> { from, to, contact, cseq }
    this.holdOffers = 0;
    this.waiters = [];
    this.refuseConnections = false;
  }

  /** Resolves when `pred(msg)` matches a received message (past or future). */
  waitFor(pred, ms = 15000) {
    const hit = this.log.find(pred);
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('timeout waiting for a SIP message')), ms);
      this.waiters.push({ pred, resolve: (m) => (clearTimeout(t), resolve(m)) });
    });
  }

  get socket() {
    return this.sockets.filter((s) => s.readyState === 1).at(-1);
  }

  send(text) {
    this.socket._deliver(text);
  }

  /** Drops the current connection as a network failure would. */
  drop() {
    this.socket?._remoteClose();
  }

  reply(req, code, reason, extra = [], body = '') {
    const h = req.headers.filter(([k]) => /^(via|from|call-id|cseq)$/i.test(k));
    let to = req.get('To');
    if (!/;tag=/.test(to) && code > 100) to += ';tag=srv' + req.get('Call-ID').length;
    h.splice(2, 0, ['To', to]);
    if (body) extra = [...extra, ['Content-Type', 'application/sdp']];
    this.send(serialize(`SIP/2.0 ${code} ${reason}`, [...h, ...extra], body));
    return to;
  }

  async receive(text) {
    if (/^\r\n/.test(text)) {
      if (text === '\r\n\r\n') this.send('\r\n');
      return;
    }
    const m = parse(text);
    this.log.push(m);
    this.waiters = this.waiters.filter((w) => !(w.pred(m) && (w.resolve(m), true)));
    if (m.code) return; // responses: recorded only
    const contact = '<sip:peer@192.0.2.9;transport=ws>';
    switch (m.method) {
      case 'REGISTER':
        if (!m.get('Authorization')) {
          this.challenges++;
          this.reply(m, 401, 'Unauthorized', [
            ['WWW-Authenticate', 'Digest realm="example.com", nonce="e2e' + this.challenges + '", qop="auth", algorithm=MD5'],
          ]);
        } else {
          this.registrations++;
          const exp = m.get('Expires') === '0' ? 0 : 300;
          this.reply(m, 200, 'OK', [['Contact', `${m.get('Contact')};expires=${exp}`], ['Expires', String(exp)]]);
        }
        break;
      case 'INVITE': {
        const callId = m.get('Call-ID');
        let pc = this.pcs.get(callId);
        if (!pc) {
          this.reply(m, 100, 'Trying');
          const to = this.reply(m, 180, 'Ringing', [['Contact', contact]]);
          pc = new RTCPeerConnection();
          this.pcs.set(callId, pc);
          const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
          stream.getTracks().forEach((t) => pc.addTrack(t, stream));
          this.dialogs.set(callId, { local: to, remote: m.get('From'), target: m.get('Contact').match(/<([^>]*)>/)[1], cseq: 100, callId });
        } else if (/a=sendonly/.test(m.body)) {
          this.holdOffers++;
        }
        await pc.setRemoteDescription({ type: 'offer', sdp: m.body });
        await pc.setLocalDescription(await pc.createAnswer());
        await gathered(pc);
        let sdp = pc.localDescription.sdp;
        if (this.noTelephoneEvent) sdp = withoutTelephoneEvent(sdp);
        this.reply(m, 200, 'OK', [['Contact', contact]], sdp);
        break;
      }
      case 'ACK':
        break;
      case 'BYE':
        this.reply(m, 200, 'OK');
        this.pcs.get(m.get('Call-ID'))?.close();
        break;
      case 'INFO': {
        const d = /Signal=(.)/.exec(m.body);
        if (d) this.infoDigits += d[1];
        this.reply(m, 200, 'OK');
        break;
      }
      case 'MESSAGE':
        this.messages.push(m.body);
        this.reply(m, 200, 'OK');
        break;
      case 'REFER': {
        this.reply(m, 202, 'Accepted');
        this.referTo = m.get('Refer-To');
        const d = this.dialogs.get(m.get('Call-ID'));
        setTimeout(() => this.request(d, 'NOTIFY', [
          ['Event', 'refer'],
          ['Subscription-State', 'terminated;reason=noresource'],
          ['Content-Type', 'message/sipfrag;version=2.0'],
        ], 'SIP/2.0 200 OK\r\n'), 50);
        break;
      }
      default:
        this.reply(m, 200, 'OK');
    }
  }

  /** An in-dialog request from the peer (NOTIFY, BYE). */
  request(d, method, extra = [], body = '') {
    d.cseq++;
    this.send(
      serialize(`${method} ${d.target} SIP/2.0`, [
        ['Via', `SIP/2.0/WSS 192.0.2.9;branch=z9hG4bK${method}${d.cseq}`],
        ['Max-Forwards', '70'],
        ['From', d.local],
        ['To', d.remote],
        ['Call-ID', d.callId],
        ['CSeq', `${d.cseq} ${method}`],
        ...extra,
      ], body),
    );
  }

  /** Calls the UA (INVITE with a real offer); returns the call's Call-ID. */
  async callUa() {
    const pc = new RTCPeerConnection();
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    stream.getTracks().forEach((t) => pc.addTrack(t, stream));
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    const callId = 'in' + Date.now();
    this.pcs.set(callId, pc);
    const reg = this.log.filter((m) => m.method === 'REGISTER').at(-1);
    const target = reg.get('Contact').match(/<([^>]*)>/)[1];
    this.incoming = { target, callId, local: '<sip:carol@example.com>;tag=c1', remote: '<sip:alice@example.com>', cseq: 1 };
    this.send(
      serialize(`INVITE ${target} SIP/2.0`, [
        ['Via', 'SIP/2.0/WSS 192.0.2.9;branch=z9hG4bKinv' + callId],
        ['Max-Forwards', '70'],
        ['From', '"Carol" <sip:carol@example.com>;tag=c1'],
        ['To', '<sip:alice@example.com>'],
        ['Call-ID', callId],
        ['CSeq', '1 INVITE'],
        ['Contact', '<sip:carol@192.0.2.9;transport=ws>'],
        ['Content-Type', 'application/sdp'],
      ], pc.localDescription.sdp),
    );
    return callId;
  }

  /** ACKs the UA's 200 to our INVITE and applies its answer. */
  async ackUa(ok) {
    const d = this.incoming;
    d.remote = ok.get('To');
    await this.pcs.get(d.callId).setRemoteDescription({ type: 'answer', sdp: ok.body });
    this.send(
      serialize(`ACK ${ok.get('Contact').match(/<([^>]*)>/)[1]} SIP/2.0`, [
        ['Via', 'SIP/2.0/WSS 192.0.2.9;branch=z9hG4bKack1'],
        ['Max-Forwards', '70'],
        ['From', d.local],
        ['To', d.remote],
        ['Call-ID', d.callId],
        ['CSeq', '1 ACK'],
      ]),
    );
  }

  /** A MESSAGE from the peer to the UA. */
  messageUa(text) {
    const reg = this.log.filter((m) => m.method === 'REGISTER').at(-1);
    const target = reg.get('Contact').match(/<([^>]*)>/)[1];
    this.send(
      serialize(`MESSAGE ${target} SIP/2.0`, [
        ['Via', 'SIP/2.0/WSS 192.0.2.9;branch=z9hG4bKmsg' + Date.now()],
        ['Max-Forwards', '70'],
        ['From', '<sip:carol@example.com>;tag=m1'],
        ['To', '<sip:alice@example.com>'],
        ['Call-ID', 'msg' + Date.now()],
        ['CSeq', '1 MESSAGE'],
        ['Content-Type', 'text/plain'],
      ], text),
    );
  }
}

/** A WebSocket class bound to `server` (same API subset as the browser's). */
export function fakeWebSocket(server) {
  return class FakeWebSocket {
    constructor(url, protocol) {
      this.url = url;
      this.protocol = protocol;
      this.readyState = 0;
      this.binaryType = 'blob';
      server.sockets.push(this);
      server.urls = [...(server.urls ?? []), url];
      setTimeout(() => {
        if (server.refuseConnections) return this._remoteClose();
        this.readyState = 1;
        this.onopen?.({});
      }, 5);
    }
    send(data) {
      if (this.readyState !== 1) throw new Error('not open');
      void server.receive(data);
    }
    close() {
      this.readyState = 3;
    }
    _deliver(text) {
      if (this.readyState === 1) setTimeout(() => this.onmessage?.({ data: text }), 0);
    }
    _remoteClose() {
      this.readyState = 3;
      setTimeout(() => this.onclose?.({ code: 1006 }), 0);
    }
  };
}
