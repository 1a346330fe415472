/*
 * noom video calls: the browser side of docs/signaling.md. A group call is a mesh: one
 * RTCPeerConnection per other participant, at most `maxPeers` (6) people per room.
 *
 * Flow (the course's): the newcomer sends call_join and gets the list of those present;
 * each of them receives call_peer_joined(newcomer) and sends it an offer. Offers,
 * answers and ICE candidates travel as offer/answer/ice(payload, peerSocketId) and arrive
 * as (payload, senderSocketId). Glare (both sides offering at once, e.g. two ICE restarts)
 * is resolved by "perfect negotiation": the side with the smaller socket id is polite
 * (rolls its own offer back), the other ignores the colliding offer.
 *
 * Media: one getUserMedia stream (320x240@15 is plenty for a mesh of six). A missing or
 * refused camera means audio only; no device at all means watch, listen and chat.
 * Mute and camera-off set track.enabled (a disabled video track sends black frames, so
 * nobody sees a frozen picture); switching a device replaces only that kind's track on
 * every RTCRtpSender (replaceTrack: no renegotiation). Every change is announced with
 * call_state so the other tiles show who is muted or has the camera off.
 *
 * With the server's SFU (the call_join ack says media: "sfu"), there is ONE
 * RTCPeerConnection, to the server: we publish audio and video once (sendonly) and add
 * two recvonly transceivers per other participant; whenever someone comes or goes we
 * make a new offer (sfu_offer, answered in the ack; the browser always offers, so there
 * is no glare) whose `subs` list says which m-line carries whom.
 * Screen sharing (SFU only; the button is disabled with the mesh): getDisplayMedia's
 * track is a third sendonly transceiver, named in sfu_offer's `screen`; call_state's
 * `screen: true` tells the others, who add a recvonly transceiver for it ("<id>:screen"
 * in subs) and show it as a large tile (data-screen) until `screen: false` or peer_left.
 *
 * The loudest remote participant (inbound audioLevel, polled) gets data-speaking="true"
 * on their tile, in both modes.
 *
 * Loaded before app.js, which calls NoomCall.create({socket, addLine}) and tells the call
 * when the user enters or leaves a room and when the connection drops. Text from users
 * (nicknames) goes into the page with textContent only.
 */
(() => {
  'use strict';

  const ACK_MS = 8000;
  const SPEAKER_POLL_MS = 300;
  const SPEAKER_HOLD_MS = 1500; // a beat of silence between words keeps the highlight
  const SPEAKER_LEVEL = 0.02; // audioLevel (0..1) that counts as speaking
  const DEFAULT_MAX = 6;
  const VIDEO = { width: { ideal: 320 }, height: { ideal: 240 }, frameRate: { ideal: 15, max: 15 } };

  const $ = (id) => document.getElementById(id);

  // A tile badge: a CSS icon (style.css .i-*) and its words for screen readers.
  function badge(iconClass, kind, label) {
    const wrap = document.createElement('span');
    wrap.className = `badge badge-${kind}`;
    wrap.title = label;
    const ico = document.createElement('span');
    ico.className = `icon ${iconClass}`;
    ico.setAttribute('aria-hidden', 'true');
    const text = document.createElement('span');
    text.className = 'sr-only';
    text.textContent = label;
    wrap.append(ico, text);
    return wrap;
  }

  function ackError(res) {
    if (res && typeof res === 'object' && typeof res.error === 'string') return res.error;
    return null;
  }

  function isDescription(d) {
    return d !== null && typeof d === 'object' && typeof d.type === 'string' && typeof d.sdp === 'string' &&
      ['offer', 'answer', 'pranswer', 'rollback'].includes(d.type);
  }

  function initial(name) {
    const ch = String(name || '?').trim().charAt(0);
    return ch ? ch.toUpperCase() : '?';
  }

  // Why getUserMedia failed, in words, for the kind(s) of device concerned.
  function mediaProblem(err, what) {
    const name = err && err.name;
    if (name === 'NotAllowedError' || name === 'SecurityError') return `access to the ${what} was denied`;
    if (name === 'NotReadableError' || name === 'AbortError') return `the ${what} could not be started (in use by another program?)`;
    return `no ${what} was found`;
  }

  function create({ socket, addLine = () => {} }) {
    const ui = {
      panel: $('videos'),
      grid: $('video-grid'),
      idle: $('call-idle'),
      joinBtn: $('call-join-btn'),
      leaveBtn: $('call-leave-btn'),
      controls: $('call-controls'),
      muteBtn: $('mute-btn'),
      cameraBtn: $('camera-btn'),
      screenBtn: $('screen-btn'),
      cameraSelect: $('camera-select'),
      micSelect: $('mic-select'),
      limit: $('call-limit'),
      notice: $('call-notice'),
      error: $('call-error'),
    };

    const call = {
      room: null, // the chat room we are in (null: lobby)
      phase: 'idle', // idle | joining | joined
      max: DEFAULT_MAX,
      iceServers: [],
      stream: null, // our local MediaStream (may have no tracks: watch only)
      tracks: { audio: null, video: null },
      muted: false,
      cameraOff: false,
      peers: new Map(), // socket id -> peer
      sfu: null, // SFU mode: {pc, senders, busy, dirty, screenTx}
      screen: null, // our screen share (SFU only): its MediaStreamTrack
      self: null, // our own tile
      joinSeq: 0, // bumps on every join/leave so stale async work can tell it lost
      speakerTimer: null, // active-speaker polling while joined
      speaker: null, // {id, until}: the highlighted tile stays for SPEAKER_HOLD_MS
    };

    /* ---- messages ---- */

    function setNotice(text) {
      ui.notice.textContent = text || '';
      ui.notice.hidden = !text;
    }

    function setError(text) {
      ui.error.textContent = text || '';
      ui.error.hidden = !text;
    }

    function setLimit(max) {
      call.max = Number.isInteger(max) && max > 1 ? max : DEFAULT_MAX;
      ui.limit.textContent = `Up to ${call.max} people per call`;
    }

    /* ---- /config: ICE servers from the server (never hard-coded) ---- */

    async function loadConfig() {
      try {
        const res = await fetch('/config', { cache: 'no-store' });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        const cfg = await res.json();
        return {
          iceServers: Array.isArray(cfg.iceServers) ? cfg.iceServers : [],
          maxPeers: Number.isInteger(cfg.maxPeers) ? cfg.maxPeers : DEFAULT_MAX,
        };
      } catch (_) {
        // Without the list, host candidates still connect people on one network.
        return { iceServers: [], maxPeers: call.max };
      }
    }

    /* ---- local media ---- */

    // Resolves to {stream, notice}: the best of audio+video, audio only, video only or
    // nothing, and a sentence for whatever is missing. Never rejects.
    async function getMedia() {
      const md = navigator.mediaDevices;
      if (!md || typeof md.getUserMedia !== 'function') {
        return {
          stream: new MediaStream(),
          notice: 'Camera and microphone need a secure page (https:// or localhost). ' +
            'You are in the call without them: you can watch, listen and chat.',
        };
      }
      const video = { ...VIDEO };
      if (ui.cameraSelect.value) video.deviceId = ui.cameraSelect.value;
      const audio = ui.micSelect.value ? { deviceId: ui.micSelect.value } : true;
      let bothErr;
      try {
        return { stream: await md.getUserMedia({ audio, video }), notice: '' };
      } catch (err) {
        bothErr = err;
      }
      let micErr;
      try {
        const s = await md.getUserMedia({ audio });
        return { stream: s, notice: `You joined with audio only: ${mediaProblem(bothErr, 'camera')}.` };
      } catch (err) {
        micErr = err;
      }
      let camErr;
      try {
        const s = await md.getUserMedia({ video });
        return {
          stream: s,
          notice: `You joined with video only (the others cannot hear you): ${mediaProblem(micErr, 'microphone')}.`,
        };
      } catch (err) {
        camErr = err;
      }
      const denied = [bothErr, micErr, camErr].some((e) => e && (e.name === 'NotAllowedError' || e.name === 'SecurityError'));
      return {
        stream: new MediaStream(),
        notice: denied
          ? 'Camera and microphone access was denied: you can still watch, listen and chat. ' +
            'Allow them in the site settings, then leave and join the call again.'
          : 'No camera or microphone was found: you can still watch, listen and chat.',
      };
    }

    function stopStream(stream) {
      if (stream) for (const t of stream.getTracks()) t.stop();
    }

    // Fills the camera and microphone lists (labels are known once access was granted).
    async function fillDevices() {
      const md = navigator.mediaDevices;
      if (!md || typeof md.enumerateDevices !== 'function') return;
      let devices = [];
      try {
        devices = await md.enumerateDevices();
      } catch (_) {
        return;
      }
      const fill = (select, kind, track, noun) => {
        const list = devices.filter((d) => d.kind === kind && d.deviceId);
        const current = track ? track.getSettings().deviceId : select.value;
        const options = list.map((d, i) => {
          const o = document.createElement('option');
          o.value = d.deviceId;
          o.textContent = d.label || `${noun} ${i + 1}`;
          return o;
        });
        select.replaceChildren(...options);
        if (current && list.some((d) => d.deviceId === current)) select.value = current;
        // Switching needs a track of that kind to replace.
        select.disabled = !track || list.length < 2;
        select.closest('.device').hidden = list.length === 0;
      };
      fill(ui.cameraSelect, 'videoinput', call.tracks.video, 'Camera');
      fill(ui.micSelect, 'audioinput', call.tracks.audio, 'Microphone');
    }

    if (navigator.mediaDevices && 'ondevicechange' in navigator.mediaDevices) {
      navigator.mediaDevices.addEventListener('devicechange', () => {
        if (call.phase === 'joined') fillDevices();
      });
    }

    /* ---- tiles ---- */

    function makeTile(id, nickname, self) {
      const fig = document.createElement('figure');
      fig.className = self ? 'tile tile-self' : 'tile';
      fig.dataset.testid = 'tile';
      fig.dataset.peer = id;
      fig.dataset.conn = self ? 'connected' : 'new';
      fig.dataset.muted = 'false';
      fig.dataset.cameraOff = 'false';
      const video = document.createElement('video');
      video.autoplay = true;
      video.playsInline = true;
      if (self) video.muted = true; // never hear oneself
      const avatar = document.createElement('div');
      avatar.className = 'tile-avatar';
      avatar.setAttribute('aria-hidden', 'true');
      const status = document.createElement('span');
      status.className = 'tile-status';
      status.textContent = 'Connecting…';
      const caption = document.createElement('figcaption');
      caption.className = 'tile-name';
      const name = document.createElement('span');
      name.className = 'name';
      caption.append(badge('i-mic-off', 'micOff', 'Muted'), name);
      const camBadge = badge('i-cam-off', 'camOff', 'Camera off');
      camBadge.classList.add('tile-cam');
      fig.append(video, avatar, status, camBadge, caption);
      const tile = { fig, video, name, avatar };
      setTileName(tile, self ? 'You' : nickname);
      return tile;
    }

    function setTileName(tile, nickname) {
      tile.name.textContent = nickname;
      tile.avatar.textContent = initial(nickname);
      tile.fig.setAttribute('aria-label', nickname);
    }

    function setTileState(tile, state) {
      tile.fig.dataset.muted = String(Boolean(state.muted));
      tile.fig.dataset.cameraOff = String(Boolean(state.cameraOff));
    }

    // The tile width that fits n 4:3 tiles in the grid's box best, trying every column
    // count (CSS alone cannot fit a grid to both the width and the height).
    function layoutGrid() {
      // A shared screen takes the top of the box (.tile-screen); the tiles share the rest.
      const screens = ui.grid.querySelectorAll('.tile-screen').length;
      const n = ui.grid.children.length - screens;
      const w = ui.grid.clientWidth;
      const h = screens ? ui.grid.clientHeight * 0.3 : ui.grid.clientHeight;
      if (!n || !w || !h) return;
      const gap = parseFloat(getComputedStyle(ui.grid).columnGap) || 0;
      let best = 0;
      for (let cols = 1; cols <= n; cols++) {
        const rows = Math.ceil(n / cols);
        const tile = Math.min((w - gap * (cols - 1)) / cols, ((h - gap * (rows - 1)) / rows) * (4 / 3));
        best = Math.max(best, tile);
      }
      ui.grid.style.setProperty('--tile-w', `${Math.floor(best)}px`);
    }

    if (typeof ResizeObserver === 'function') new ResizeObserver(layoutGrid).observe(ui.grid);

    function renderGrid() {
      const n = ui.grid.children.length;
      ui.grid.dataset.count = String(n);
      ui.panel.dataset.call = call.phase;
      const inCall = call.phase === 'joined';
      ui.idle.hidden = inCall;
      ui.grid.hidden = !inCall;
      ui.controls.hidden = !inCall;
      ui.joinBtn.hidden = inCall;
      ui.joinBtn.disabled = call.phase === 'joining' || call.room === null;
      ui.joinBtn.textContent = call.phase === 'joining' ? 'Joining…' : 'Join call';
      layoutGrid();
    }

    function renderControls() {
      const { audio, video } = call.tracks;
      ui.muteBtn.disabled = !audio;
      ui.cameraBtn.disabled = !video;
      const muted = call.muted || !audio;
      const camOff = call.cameraOff || !video;
      // Screen sharing goes through the server's SFU only (the mesh would need one more
      // track on every peer connection: not done).
      const canShare = Boolean(call.sfu && navigator.mediaDevices && navigator.mediaDevices.getDisplayMedia);
      ui.screenBtn.disabled = !canShare;
      ui.screenBtn.title = canShare ? '' : call.sfu ? 'This browser cannot share its screen'
        : 'Screen sharing needs the server\'s SFU (this server relays calls peer to peer: --media mesh)';
      ui.screenBtn.setAttribute('aria-pressed', String(Boolean(call.screen)));
      ui.screenBtn.querySelector('.label').textContent = call.screen ? 'Stop sharing' : 'Share screen';
      ui.muteBtn.setAttribute('aria-pressed', String(muted));
      ui.muteBtn.querySelector('.label').textContent = !audio ? 'No mic' : muted ? 'Unmute' : 'Mute';
      ui.cameraBtn.setAttribute('aria-pressed', String(camOff));
      ui.cameraBtn.querySelector('.label').textContent = !video ? 'No camera' : camOff ? 'Start video' : 'Stop video';
      if (call.self) setTileState(call.self, { muted, cameraOff: camOff });
    }

    function localState() {
      return { muted: call.muted || !call.tracks.audio, cameraOff: call.cameraOff || !call.tracks.video, screen: Boolean(call.screen) };
    }

    function sendState() {
      if (call.phase !== 'joined' || !socket.connected) return;
      socket.emit('call_state', call.room, localState());
    }

    /* ---- peers ---- */

    // offerer: we were in the call first and make the offer (the course's flow); the
    // newcomer's side waits for that offer and answers with its tracks attached.
    function addPeer(id, nickname, offerer) {
      const known = call.peers.get(id);
      if (known) {
        if (nickname) setTileName(known.tile, nickname);
        return known;
      }
      const pc = new RTCPeerConnection({ iceServers: call.iceServers });
      const peer = {
        id,
        nickname: nickname || 'Guest',
        pc,
        // Perfect negotiation roles: any fixed, shared order of the two ids works.
        polite: String(socket.id) < id,
        offerer,
        ready: offerer, // may start negotiations (the newcomer only after the first offer)
        makingOffer: false,
        ignoreOffer: false,
        senders: { audio: null, video: null },
        queue: Promise.resolve(),
        stream: new MediaStream(),
        tile: makeTile(id, nickname || 'Guest', false),
      };
      call.peers.set(id, peer);
      ui.grid.append(peer.tile.fig);
      renderGrid();

      pc.onicecandidate = ({ candidate }) => {
        if (socket.connected) socket.emit('ice', candidate ? candidate.toJSON() : null, id);
      };
      pc.ontrack = ({ track }) => {
        if (!peer.stream.getTracks().includes(track)) peer.stream.addTrack(track);
        const v = peer.tile.video;
        v.srcObject = peer.stream;
        v.play().catch(() => {});
      };
      pc.onconnectionstatechange = () => {
        const st = pc.connectionState;
        peer.tile.fig.dataset.conn = st;
        const status = peer.tile.fig.querySelector('.tile-status');
        status.textContent = st === 'failed' ? 'Reconnecting…' : st === 'disconnected' ? 'Connection unstable…' : 'Connecting…';
        // A lost path: ask for fresh candidates (this renegotiates; glare is handled).
        if (st === 'failed' && peer.ready) pc.restartIce();
      };
      pc.onnegotiationneeded = () => negotiate(peer);

      if (offerer) {
        // Fixed m-lines, audio then video, even without a device: recvonly still lets a
        // watcher receive the others.
        for (const kind of ['audio', 'video']) {
          const track = call.tracks[kind];
          const t = pc.addTransceiver(track || kind, { direction: track ? 'sendrecv' : 'recvonly' });
          peer.senders[kind] = t.sender;
        }
      }
      return peer;
    }

    async function negotiate(peer) {
      if (!peer.ready || call.peers.get(peer.id) !== peer) return;
      const pc = peer.pc;
      try {
        peer.makingOffer = true;
        await pc.setLocalDescription();
        if (pc.localDescription && pc.localDescription.type === 'offer') {
          socket.emit('offer', { type: 'offer', sdp: pc.localDescription.sdp }, peer.id);
        }
      } catch (err) {
        if (pc.signalingState !== 'closed') console.warn('noom call: offer to', peer.id, 'failed:', err);
      } finally {
        peer.makingOffer = false;
      }
    }

    // The answering side puts its tracks on the transceivers the offer created (the first
    // one of each kind); without a device of that kind it only receives.
    async function attachLocal(peer) {
      for (const t of peer.pc.getTransceivers()) {
        const kind = t.receiver.track.kind;
        if (peer.senders[kind] || t.stopped || t.currentDirection === 'stopped') continue;
        peer.senders[kind] = t.sender;
        const track = call.tracks[kind];
        if (track) {
          await t.sender.replaceTrack(track);
          t.direction = 'sendrecv';
        } else {
          t.direction = 'recvonly';
        }
      }
    }

    async function onDescription(peer, description) {
      const pc = peer.pc;
      const collision = description.type === 'offer' && (peer.makingOffer || pc.signalingState !== 'stable');
      peer.ignoreOffer = !peer.polite && collision;
      if (peer.ignoreOffer) return;
      await pc.setRemoteDescription(description); // a polite side rolls its own offer back here
      if (description.type !== 'offer') return;
      await attachLocal(peer);
      await pc.setLocalDescription();
      socket.emit('answer', { type: 'answer', sdp: pc.localDescription.sdp }, peer.id);
      peer.ready = true;
    }

    async function onCandidate(peer, candidate) {
      try {
        if (candidate === null) await peer.pc.addIceCandidate();
        else if (typeof candidate === 'string') await peer.pc.addIceCandidate({ candidate, sdpMLineIndex: 0 });
        else await peer.pc.addIceCandidate(candidate);
      } catch (err) {
        // Candidates of an offer we ignored (glare) are expected to fail.
        if (!peer.ignoreOffer && candidate !== null && peer.pc.signalingState !== 'closed') {
          console.warn('noom call: bad ICE candidate from', peer.id, err);
        }
      }
    }

    // Signaling messages of one peer are handled one after the other, so a candidate is
    // never added before the description it belongs to.
    function enqueue(peer, fn) {
      peer.queue = peer.queue.then(fn).catch((err) => {
        if (peer.pc.signalingState !== 'closed') console.warn('noom call: signaling with', peer.id, 'failed:', err);
      });
    }

    function removePeer(id, announce) {
      const peer = call.peers.get(id);
      if (!peer) return;
      call.peers.delete(id);
      if (peer.pc) peer.pc.close();
      if (peer.tx) {
        for (const t of Object.values(peer.tx)) if (t.direction !== 'stopped') t.stop();
        sfuNegotiate();
      }
      dropScreenTile(peer);
      peer.tile.video.srcObject = null;
      peer.tile.fig.remove();
      renderGrid();
      if (announce) addLine('system', `${peer.nickname} left the call`);
    }

    /* ---- SFU: one connection to the server ---- */

    // Forwarding needs one codec per kind; offering only Opus and VP8 (else H.264), plus
    // RTX for video, also keeps the offer small at 25 people.
    function preferCodecs(t, kind) {
      if (typeof t.setCodecPreferences !== 'function' || !window.RTCRtpReceiver || !RTCRtpReceiver.getCapabilities) return;
      const caps = RTCRtpReceiver.getCapabilities(kind);
      if (!caps) return;
      const want = kind === 'audio' ? ['audio/opus'] : ['video/VP8'];
      let codecs = caps.codecs.filter((c) => want.includes(c.mimeType));
      if (!codecs.length && kind === 'video') codecs = caps.codecs.filter((c) => c.mimeType === 'video/H264');
      // RTX (RFC 4588): the server answers NACKs toward us with RTX packets when offered.
      if (codecs.length && kind === 'video') codecs = codecs.concat(caps.codecs.filter((c) => c.mimeType === 'video/rtx'));
      if (codecs.length) {
        try {
          t.setCodecPreferences(codecs);
        } catch (_) { /* the browser's default list still works */ }
      }
    }

    function sfuStart() {
      const pc = new RTCPeerConnection({ iceServers: call.iceServers, bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
      const sfu = { pc, senders: { audio: null, video: null }, busy: false, dirty: false, screenTx: null };
      call.sfu = sfu;
      for (const kind of ['audio', 'video']) {
        const track = call.tracks[kind];
        if (!track) continue; // nothing to publish of that kind
        const t = pc.addTransceiver(track, { direction: 'sendonly', streams: [call.stream] });
        preferCodecs(t, kind);
        sfu.senders[kind] = t.sender;
      }
      pc.ontrack = ({ transceiver, track }) => {
        for (const peer of call.peers.values()) {
          if (peer.tx && peer.tx.screen === transceiver) showScreen(peer, track);
          if (!peer.tx || (peer.tx.audio !== transceiver && peer.tx.video !== transceiver)) continue;
          if (!peer.stream.getTracks().includes(track)) peer.stream.addTrack(track);
          peer.tile.video.srcObject = peer.stream;
          peer.tile.video.play().catch(() => {});
        }
      };
      pc.onconnectionstatechange = () => {
        for (const peer of call.peers.values()) showConn(peer);
      };
      pc.onnegotiationneeded = () => sfuNegotiate();
    }

    function showConn(peer) {
      const st = call.sfu ? call.sfu.pc.connectionState : 'new';
      peer.tile.fig.dataset.conn = st;
      const status = peer.tile.fig.querySelector('.tile-status');
      status.textContent = st === 'failed' ? 'Media connection failed' : st === 'disconnected' ? 'Connection unstable…' : 'Connecting…';
    }

    // A tile and two receiving transceivers for someone else in the call.
    function sfuAddPeer(id, nickname) {
      const known = call.peers.get(id);
      if (known) {
        if (nickname) setTileName(known.tile, nickname);
        return;
      }
      const peer = {
        id,
        nickname: nickname || 'Guest',
        tx: {},
        stream: new MediaStream(),
        tile: makeTile(id, nickname || 'Guest', false),
      };
      for (const kind of ['audio', 'video']) {
        peer.tx[kind] = call.sfu.pc.addTransceiver(kind, { direction: 'recvonly' });
        preferCodecs(peer.tx[kind], kind);
      }
      call.peers.set(id, peer);
      ui.grid.append(peer.tile.fig);
      showConn(peer);
      renderGrid();
    }

    /* ---- screen sharing (SFU) ---- */

    // Someone's shared screen: a large tile of its own (data-screen) at the top of the grid.
    function showScreen(peer, track) {
      if (!peer.screenTile) {
        peer.screenTile = makeTile(peer.id, `${peer.nickname}'s screen`, false);
        peer.screenTile.fig.classList.add('tile-screen');
        peer.screenTile.fig.dataset.screen = 'true';
        peer.screenTile.fig.dataset.peer = `${peer.id}:screen`; // [data-peer="<id>"] stays the camera tile
        peer.screenTile.fig.dataset.conn = 'connected';
        ui.grid.prepend(peer.screenTile.fig);
        renderGrid();
      }
      peer.screenTile.video.srcObject = new MediaStream([track]);
      peer.screenTile.video.play().catch(() => {});
    }

    function dropScreenTile(peer) {
      if (!peer.screenTile) return;
      peer.screenTile.video.srcObject = null;
      peer.screenTile.fig.remove();
      peer.screenTile = null;
      renderGrid();
    }

    // peer_state says whether someone shares a screen: receive it on one more recvonly
    // transceiver (subs names it "<id>:screen"), or stop receiving it.
    function sfuSyncScreen(peer, sharing) {
      if (!call.sfu || !peer.tx) return;
      const has = Boolean(peer.tx.screen);
      if (sharing === has) return;
      if (sharing) {
        peer.tx.screen = call.sfu.pc.addTransceiver('video', { direction: 'recvonly' });
        preferCodecs(peer.tx.screen, 'video');
      } else {
        if (peer.tx.screen.direction !== 'stopped') peer.tx.screen.stop();
        delete peer.tx.screen;
        dropScreenTile(peer);
      }
      sfuNegotiate();
    }

    // Publishes getDisplayMedia() as a third track (sendonly, named by sfu_offer's screen).
    async function startScreen() {
      const sfu = call.sfu;
      if (!sfu || call.screen) return;
      const seq = call.joinSeq;
      let track;
      try {
        const s = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 15 } }, audio: false });
        track = s.getVideoTracks()[0];
      } catch (err) {
        if (err && err.name !== 'NotAllowedError') setError(`Could not share the screen: ${err.message || err.name}`);
        return;
      }
      if (!track) return;
      if (seq !== call.joinSeq || call.sfu !== sfu || call.screen) {
        track.stop();
        return;
      }
      call.screen = track;
      track.onended = () => stopScreen(); // the browser's own "Stop sharing"
      sfu.screenTx = sfu.pc.addTransceiver(track, { direction: 'sendonly', streams: [new MediaStream([track])] });
      preferCodecs(sfu.screenTx, 'video');
      renderControls();
      sendState();
      sfuNegotiate();
    }

    function stopScreen() {
      const track = call.screen;
      if (!track) return;
      call.screen = null;
      track.onended = null;
      track.stop();
      const sfu = call.sfu;
      if (sfu && sfu.screenTx) {
        if (sfu.screenTx.direction !== 'stopped') sfu.screenTx.stop();
        sfu.screenTx = null;
        sfuNegotiate();
      }
      renderControls();
      sendState();
    }

    function emitAck(event, ...args) {
      return new Promise((resolve) => {
        socket.timeout(ACK_MS).emit(event, ...args, (err, res) => resolve(err ? { error: 'the server did not answer' } : res));
      });
    }

    // Offers until the connection matches the call (changes during a round trip mark it
    // dirty and make one more round). Only one offer is in flight at a time.
    async function sfuNegotiate() {
      const sfu = call.sfu;
      if (!sfu) return;
      sfu.dirty = true;
      if (sfu.busy) return;
      sfu.busy = true;
      try {
        while (sfu.dirty && call.sfu === sfu && socket.connected) {
          sfu.dirty = false;
          await sfu.pc.setLocalDescription(await sfu.pc.createOffer());
          const subs = [];
          for (const peer of call.peers.values()) {
            for (const [kind, t] of Object.entries(peer.tx || {})) {
              if (t.mid !== null && t.direction !== 'stopped') subs.push(t.mid, kind === 'screen' ? `${peer.id}:screen` : peer.id);
            }
          }
          const offer = { type: 'offer', sdp: sfu.pc.localDescription.sdp, subs };
          if (sfu.screenTx && sfu.screenTx.mid !== null && sfu.screenTx.direction !== 'stopped') offer.screen = sfu.screenTx.mid;
          const res = await emitAck('sfu_offer', call.room, offer);
          if (call.sfu !== sfu) return;
          const refused = ackError(res);
          if (refused || !isDescription(res)) {
            setError(`The call's media could not be set up: ${refused || 'bad answer'}.`);
            await sfu.pc.setLocalDescription({ type: 'rollback' }).catch(() => {});
            return;
          }
          await sfu.pc.setRemoteDescription(res);
        }
      } catch (err) {
        if (sfu.pc.signalingState !== 'closed') console.warn('noom call: negotiation with the server failed:', err);
      } finally {
        sfu.busy = false;
      }
    }

    /* ---- active speaker ---- */

    // Audio levels of everyone's received audio (inbound-rtp audioLevel, matched to a
    // tile by its audio track), the loudest above SPEAKER_LEVEL highlighted
    // (data-speaking on the tile). Works the same with the mesh and the SFU.
    async function pollSpeaker() {
      const seq = call.joinSeq;
      const levels = new Map(); // track id -> level
      const pcs = call.sfu ? [call.sfu.pc] : [...call.peers.values()].map((p) => p.pc).filter(Boolean);
      for (const pc of pcs) {
        try {
          for (const r of (await pc.getStats()).values()) {
            if (r.type === 'inbound-rtp' && r.kind === 'audio' && r.trackIdentifier) levels.set(r.trackIdentifier, r.audioLevel || 0);
          }
        } catch (_) { /* a closed connection: no levels */ }
      }
      if (seq !== call.joinSeq) return;
      let best = null;
      let bestLevel = SPEAKER_LEVEL;
      for (const peer of call.peers.values()) {
        const track = peer.stream.getAudioTracks()[0];
        const level = track ? levels.get(track.id) || 0 : 0;
        if (level > bestLevel) {
          best = peer.id;
          bestLevel = level;
        }
      }
      const now = performance.now();
      if (best) call.speaker = { id: best, until: now + SPEAKER_HOLD_MS };
      else if (call.speaker && call.speaker.until < now) call.speaker = null;
      for (const peer of call.peers.values()) {
        peer.tile.fig.dataset.speaking = String(Boolean(call.speaker && call.speaker.id === peer.id));
      }
    }

    /* ---- join and leave ---- */

    async function join() {
      if (call.phase !== 'idle' || call.room === null) return;
      const seq = ++call.joinSeq;
      const room = call.room;
      call.phase = 'joining';
      setError('');
      setNotice('');
      renderGrid();
      const [cfg, media] = await Promise.all([loadConfig(), getMedia()]);
      if (seq !== call.joinSeq) {
        stopStream(media.stream);
        return;
      }
      setLimit(cfg.maxPeers);
      const fail = (text) => {
        stopStream(media.stream);
        call.phase = 'idle';
        setNotice('');
        setError(text);
        renderGrid();
      };
      if (!socket.connected) {
        fail('Not connected to the server; wait for the reconnection and try again.');
        return;
      }
      socket.timeout(ACK_MS).emit('call_join', room, (err, res) => {
        if (seq !== call.joinSeq) {
          // Left (or left the room) while waiting: undo a join that went through.
          stopStream(media.stream);
          if (!err && !ackError(res) && socket.connected) socket.emit('call_leave', room);
          return;
        }
        if (err) return fail('The server did not answer. Try again.');
        const refused = ackError(res);
        if (refused) return fail(`Could not join the call: ${refused}.`);
        if (res && Number.isInteger(res.max)) setLimit(res.max);
        start(media, cfg.iceServers, res && Array.isArray(res.peers) ? res.peers : [], res && res.media === 'sfu');
      });
    }

    function start(media, iceServers, peers, sfu) {
      call.phase = 'joined';
      call.speaker = null;
      clearInterval(call.speakerTimer);
      call.speakerTimer = setInterval(pollSpeaker, SPEAKER_POLL_MS);
      call.iceServers = iceServers;
      call.stream = media.stream;
      call.tracks.audio = media.stream.getAudioTracks()[0] || null;
      call.tracks.video = media.stream.getVideoTracks()[0] || null;
      call.muted = false;
      call.cameraOff = false;
      setNotice(media.notice);
      call.self = makeTile('self', 'You', true);
      call.self.video.srcObject = media.stream;
      ui.grid.replaceChildren(call.self.fig);
      if (sfu) sfuStart();
      for (const p of peers) {
        if (p && typeof p.id === 'string' && p.id !== socket.id) {
          const name = typeof p.nickname === 'string' ? p.nickname : '';
          if (sfu) sfuAddPeer(p.id, name);
          else addPeer(p.id, name, false);
        }
      }
      if (sfu) sfuNegotiate();
      renderControls();
      renderGrid();
      fillDevices();
      sendState();
    }

    // Ends our part locally: closes every connection, stops the devices, clears the grid.
    function teardown() {
      clearInterval(call.speakerTimer);
      call.speakerTimer = null;
      call.speaker = null;
      call.joinSeq++;
      if (call.screen) { // quietly: the call is over, nothing to announce or renegotiate
        call.screen.onended = null;
        call.screen.stop();
        call.screen = null;
      }
      const sfu = call.sfu;
      call.sfu = null; // first: removing peers must not renegotiate
      for (const id of [...call.peers.keys()]) removePeer(id, false);
      if (sfu) sfu.pc.close();
      stopStream(call.stream);
      call.stream = null;
      call.tracks.audio = null;
      call.tracks.video = null;
      call.self = null;
      ui.grid.replaceChildren();
      call.phase = 'idle';
      renderGrid();
    }

    function leave() {
      if (call.phase === 'idle') return;
      if (call.phase === 'joined' && socket.connected) socket.emit('call_leave', call.room);
      teardown();
      setNotice('');
    }

    /* ---- controls ---- */

    function toggleMute() {
      if (!call.tracks.audio) return;
      call.muted = !call.muted;
      call.tracks.audio.enabled = !call.muted;
      renderControls();
      sendState();
    }

    function toggleCamera() {
      if (!call.tracks.video) return;
      call.cameraOff = !call.cameraOff;
      call.tracks.video.enabled = !call.cameraOff; // the peers receive black frames
      renderControls();
      sendState();
    }

    // Opens deviceId for one kind and swaps it in on every connection with replaceTrack:
    // no renegotiation, and the other kind's track (and its mute state) stays untouched.
    async function switchDevice(kind, deviceId) {
      const old = call.tracks[kind];
      if (call.phase !== 'joined' || !old || !deviceId || old.getSettings().deviceId === deviceId) return;
      const seq = call.joinSeq;
      const select = kind === 'video' ? ui.cameraSelect : ui.micSelect;
      select.disabled = true;
      let track;
      try {
        const constraints = kind === 'video'
          ? { video: { ...VIDEO, deviceId: { exact: deviceId } } }
          : { audio: { deviceId: { exact: deviceId } } };
        const s = await navigator.mediaDevices.getUserMedia(constraints);
        track = kind === 'video' ? s.getVideoTracks()[0] : s.getAudioTracks()[0];
      } catch (err) {
        setError(`Could not switch the ${kind === 'video' ? 'camera' : 'microphone'}: ${err.message || err.name}`);
        select.value = old.getSettings().deviceId || '';
        select.disabled = false;
        return;
      }
      if (seq !== call.joinSeq) {
        track.stop();
        return;
      }
      setError('');
      // The new track takes over at once, so a mute or a newcomer meanwhile uses it.
      track.enabled = kind === 'video' ? !call.cameraOff : !call.muted;
      call.tracks[kind] = track;
      call.stream.removeTrack(old);
      call.stream.addTrack(track);
      if (call.self) call.self.video.srcObject = call.stream;
      const senders = call.sfu ? [call.sfu.senders[kind]] : [...call.peers.values()].map((peer) => peer.senders[kind]);
      await Promise.all(senders.map((sender) => (sender ? sender.replaceTrack(track).catch(() => {}) : null)));
      old.stop();
      select.disabled = false;
      fillDevices();
    }

    /* ---- server events ---- */

    const inCall = () => call.phase === 'joined';

    socket.on('call_peer_joined', (id, nickname) => {
      if (!inCall() || typeof id !== 'string' || id === socket.id) return;
      const name = typeof nickname === 'string' ? nickname : '';
      if (call.sfu) {
        sfuAddPeer(id, name);
        sfuNegotiate();
      } else {
        addPeer(id, name, true);
      }
      addLine('system', `${name || 'Someone'} joined the call`);
      sendState(); // so the newcomer learns whether we are muted
    });

    socket.on('peer_left', (id) => {
      if (typeof id === 'string') removePeer(id, true);
    });

    // SFU: the server ended our part (our media stopped reaching it).
    socket.on('call_ended', (room, reason) => {
      if (!inCall() || room !== call.room) return;
      teardown();
      setNotice('');
      setError(`You left the call: ${typeof reason === 'string' ? reason : 'ended by the server'}. Join again to retry.`);
    });

    socket.on('peer_state', (id, state) => {
      const peer = call.peers.get(id);
      if (!peer || !state || typeof state !== 'object') return;
      setTileState(peer.tile, state);
      sfuSyncScreen(peer, state.screen === true);
    });

    // Only from people in the call (the ack of call_join and call_peer_joined announce them
    // before their first offer can arrive): anyone else in the chat room is ignored.
    socket.on('offer', (description, from) => {
      const peer = inCall() ? call.peers.get(from) : null;
      if (peer && peer.pc && isDescription(description)) enqueue(peer, () => onDescription(peer, description));
    });

    socket.on('answer', (description, from) => {
      const peer = call.peers.get(from);
      if (peer && peer.pc && isDescription(description)) enqueue(peer, () => onDescription(peer, description));
    });

    socket.on('ice', (candidate, from) => {
      const peer = call.peers.get(from);
      if (peer && peer.pc && (candidate === null || typeof candidate === 'string' || typeof candidate === 'object')) {
        enqueue(peer, () => onCandidate(peer, candidate));
      }
    });

    /* ---- buttons ---- */

    ui.joinBtn.addEventListener('click', () => join());
    ui.leaveBtn.addEventListener('click', () => leave());
    ui.muteBtn.addEventListener('click', toggleMute);
    ui.cameraBtn.addEventListener('click', toggleCamera);
    ui.screenBtn.addEventListener('click', () => (call.screen ? stopScreen() : startScreen()));
    ui.cameraSelect.addEventListener('change', () => switchDevice('video', ui.cameraSelect.value));
    ui.micSelect.addEventListener('change', () => switchDevice('audio', ui.micSelect.value));

    setLimit(DEFAULT_MAX);
    loadConfig().then((cfg) => {
      if (call.phase === 'idle') setLimit(cfg.maxPeers);
    });
    renderGrid();

    return {
      // The user entered a chat room: the call of that room can be joined.
      enterRoom(room) {
        call.room = room;
        setError('');
        setNotice('');
        renderGrid();
      },
      // Back to the lobby: leave_room already ends our part on the server.
      exitRoom() {
        teardown();
        call.room = null;
        setError('');
        setNotice('');
        renderGrid();
      },
      // The connection dropped. The server keeps our place in the call for a while
      // (connection-state recovery) and the media goes peer to peer meanwhile: wait for
      // the reconnection (reconnected) before giving the call up.
      disconnected() {
        if (call.phase === 'idle') return;
        setNotice('Connection lost, reconnecting…');
      },
      // recovered: the server gave our session back, the call goes on (signaling sent
      // meanwhile was buffered or replayed). Otherwise it has ended our part in the call.
      reconnected(recovered) {
        if (call.phase === 'idle') return;
        setNotice('');
        if (recovered) return;
        teardown();
        setError('Connection lost: you left the call. Join again.');
      },
      // Someone left the chat room (`bye` has their nickname, not their id): peer_left
      // normally removes their tile already; this also drops a connection of theirs that
      // is dead, for peers that never send call_leave.
      bye(nickname) {
        for (const peer of [...call.peers.values()]) {
          if (!peer.pc) continue; // SFU: peer_left and the server's consent check cover it
          const st = peer.pc.connectionState;
          if (peer.nickname === nickname && (st === 'failed' || st === 'closed' || st === 'disconnected')) {
            removePeer(peer.id, true);
          }
        }
      },
      leave,
    };
  }

  window.NoomCall = { create };
})();
