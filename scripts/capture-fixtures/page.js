// Helpers evaluated inside the browser page (Chromium and Firefox alike).
window.keep = [];

function waitGathering(pc, ms = 8000) {
  return new Promise((resolve) => {
    if (pc.iceGatheringState === 'complete') return resolve();
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') resolve();
    });
    setTimeout(resolve, ms);
  });
}

async function gatherOffer(kind) {
  const pc = new RTCPeerConnection();
  window.keep.push(pc);
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: kind === 'av' });
  for (const t of stream.getTracks()) pc.addTrack(t, stream);
  await pc.setLocalDescription(await pc.createOffer());
  await waitGathering(pc);
  return pc.localDescription.sdp;
}

async function answerTo(offerSdp) {
  const pc = new RTCPeerConnection();
  window.keep.push(pc);
  await pc.setRemoteDescription({ type: 'offer', sdp: offerSdp });
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  for (const t of stream.getTracks()) pc.addTrack(t, stream);
  await pc.setLocalDescription(await pc.createAnswer());
  await waitGathering(pc);
  return pc.localDescription.sdp;
}

async function runJssip(wsUrl) {
  const socket = new JsSIP.WebSocketInterface(wsUrl);
  const ua = new JsSIP.UA({
    sockets: [socket],
    uri: 'sip:alice@127.0.0.1',
    password: 'secret',
    display_name: 'Alice',
    register: true,
  });
  window.keep.push(ua);
  await new Promise((resolve) => { ua.on('connected', resolve); ua.start(); });
  ua.call('sip:+15551234567@127.0.0.1', {
    mediaConstraints: { audio: true, video: false },
    pcConfig: { iceServers: [] },
  });
  return 'started';
}

async function runSipjs(wsUrl) {
  const ua = new SIP.UserAgent({
    uri: SIP.UserAgent.makeURI('sip:bob@127.0.0.1'),
    transportOptions: { server: wsUrl },
    authorizationUsername: 'bob',
    authorizationPassword: 'secret',
    displayName: 'Bob',
  });
  window.keep.push(ua);
  await ua.start();
  const reg = new SIP.Registerer(ua);
  window.keep.push(reg);
  reg.register().catch(() => {});
  const inviter = new SIP.Inviter(ua, SIP.UserAgent.makeURI('sip:+15551234567@127.0.0.1'), {
    sessionDescriptionHandlerOptions: { constraints: { audio: true, video: false } },
  });
  window.keep.push(inviter);
  inviter.invite().catch(() => {});
  return 'started';
}
